using ModelOpt.Engine.Quantization.Observers;

namespace ModelOpt.Engine.Quantization.Config;

/// <summary>
/// The observers of one quantization recipe, as <c>torch.ao.quantization.QConfig</c>: factories, never instances,
/// because prepare builds one observer per observed value and observers must not be shared.
/// </summary>
public sealed record QConfig(Func<ObserverBase> Activation, Func<ObserverBase> Weight)
{
    /// <summary>A human-readable account of both observers and their parameters.</summary>
    public string Describe()
    {
        using var activation = Activation();
        using var weight = Weight();
        return $"activation: {activation.Describe()}; weight: {weight.Describe()}";
    }
}
