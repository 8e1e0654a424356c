namespace ModelOpt.Engine.Graph;

/// <summary>An SSA value of a captured graph: the tensor one node produces.</summary>
public readonly record struct GraphValue(int Id)
{
    public override string ToString() => $"%{Id}";
}
