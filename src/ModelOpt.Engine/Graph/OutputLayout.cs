namespace ModelOpt.Engine.Graph;

/// <summary>One output of a model: its name and its shape per image (after the batch axis).</summary>
public sealed record ModelOutput(string Name, long[] Shape)
{
    public long ElementsPerImage => Shape.Aggregate(1L, (product, d) => product * d);
}

/// <summary>
/// A model's outputs in order, and the one tensor the pipeline passes for them: a model with one output gives that
/// output as it is; a model with several gives them flattened after the batch axis and concatenated in order,
/// (N, Σ elements per image), which <see cref="Unpack"/> splits back into the outputs' shapes. Every stage's
/// <c>Func&lt;Tensor, Tensor&gt;</c> (timing, screening, recording FP32's outputs, fidelity) thus runs unchanged, and a
/// single-output model costs nothing more (ADR-023).
/// </summary>
public sealed record OutputLayout(IReadOnlyList<ModelOutput> Outputs)
{
    public static OutputLayout Of(IReadOnlyList<string> names, IReadOnlyList<long[]> shapes) =>
        new([.. names.Zip(shapes, (name, shape) => new ModelOutput(name, shape))]);

    public bool IsSingle => Outputs.Count == 1;

    public IEnumerable<string> Names => Outputs.Select(o => o.Name);

    /// <summary>Values per image over every output.</summary>
    public long ElementsPerImage => Outputs.Sum(o => o.ElementsPerImage);

    /// <summary>The pipeline's one tensor for <paramref name="outputs"/> (each (N, ...), in order); the caller's dispose scope owns it.</summary>
    /// <exception cref="ArgumentException">Not one tensor per output.</exception>
    public Tensor Pack(IReadOnlyList<Tensor> outputs)
    {
        if (outputs.Count != Outputs.Count)
        {
            throw new ArgumentException($"The model gives {outputs.Count} outputs; {Outputs.Count} ({string.Join(", ", Names)}) were expected.", nameof(outputs));
        }
        return Packed(outputs);
    }

    /// <summary><see cref="Pack"/> where the outputs' count is already known to be right (a form built for this graph).</summary>
    public static Tensor Packed(IReadOnlyList<Tensor> outputs) =>
        outputs.Count == 1 ? outputs[0] : cat([.. outputs.Select(o => o.to_type(ScalarType.Float32).flatten(1))], 1);

    /// <summary>Views of each output in a packed tensor (N, ...), shaped (N, output's shape), in order.</summary>
    /// <exception cref="ArgumentException">The tensor does not hold this many values per image.</exception>
    public IReadOnlyList<Tensor> Unpack(Tensor packed)
    {
        if (IsSingle)
        {
            return [packed];
        }
        var images = packed.shape[0];
        if (packed.dim() != 2 || packed.shape[1] != ElementsPerImage)
        {
            throw new ArgumentException(
                $"The outputs ({string.Join(", ", Names)}) hold {ElementsPerImage} values per image; the tensor is ({string.Join(", ", packed.shape)}).", nameof(packed));
        }
        var views = new List<Tensor>();
        var start = 0L;
        foreach (var output in Outputs)
        {
            views.Add(packed.narrow(1, start, output.ElementsPerImage).reshape([images, .. output.Shape]));
            start += output.ElementsPerImage;
        }
        return views;
    }
}
