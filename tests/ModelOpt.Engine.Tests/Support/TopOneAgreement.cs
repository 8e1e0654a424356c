namespace ModelOpt.Engine.Tests.Support;

/// <summary>
/// Top-1 agreement of two int8 forms' logits on a random-weight net, judged where it means something. Such nets put their
/// top two logits within a few output steps for many inputs, and a step of rounding noise may legitimately swap those;
/// how many near-ties a draw has is the random net's, not the form's (the weights and inputs come from torch's global
/// generator, which tests running in parallel also draw from). So agreement is required on the inputs the reference
/// decides by more than two output steps, and at least half the inputs must be such.
/// </summary>
internal sealed record TopOneAgreement(double Overall, long DecisiveInputs, long Inputs, double OnDecisiveInputs)
{
    public static TopOneAgreement Of(Tensor actual, Tensor reference, double outputStep)
    {
        using var scope = NewDisposeScope();
        var agrees = actual.argmax(1).eq(reference.argmax(1));
        var topTwo = reference.topk(2, 1).values;
        var decisive = (topTwo[.., 0] - topTwo[.., 1]).gt(2 * outputStep);
        var decisiveInputs = decisive.sum().item<long>();
        return new(
            agrees.to(float32).mean().item<float>(), decisiveInputs, reference.shape[0],
            decisiveInputs == 0 ? 0 : agrees[decisive].to(float32).mean().item<float>());
    }

    /// <summary>Agreement on at least <paramref name="minimum"/> of the decisive inputs, which are at least half of all.</summary>
    public bool Holds(double minimum) => 2 * DecisiveInputs >= Inputs && OnDecisiveInputs >= minimum;

    public override string ToString() => $"top-1 agreement {Overall:P2}, on {DecisiveInputs} decisive inputs of {Inputs} {OnDecisiveInputs:P2}";
}
