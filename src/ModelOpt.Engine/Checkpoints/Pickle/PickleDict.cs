namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>A pickled dict or <c>collections.OrderedDict</c>, in insertion order as Python keeps it.</summary>
internal sealed class PickleDict : OrderedDictionary<object, object?>
{
    /// <summary>Stands for a <c>None</c> key, which .NET dictionaries cannot hold.</summary>
    public static readonly object NoneKey = new();
}
