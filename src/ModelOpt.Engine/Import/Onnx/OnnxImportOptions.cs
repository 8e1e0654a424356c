namespace ModelOpt.Engine.Import.Onnx;

/// <summary>What the caller knows that the ONNX file may not say.</summary>
/// <param name="InputHeight">The image height to use where the graph's input has a dynamic H (the job's preprocessing size); ignored where H is fixed.</param>
/// <param name="InputWidth">The same for W.</param>
/// <param name="OutputName">The graph output to use as the model's output; null for the first (or every one, <paramref name="EveryOutput"/>).</param>
/// <param name="AnyOutputShape">
/// Accept an output of any shape (a mask, a sequence, an embedding) instead of requiring (N, classes) logits: the
/// engine's graph, interpreter and int8 backends take any; the classification pipeline needs logits.
/// </param>
/// <param name="EveryOutput">Without an <paramref name="OutputName"/>, keep every graph output (a generic job measures each) instead of the first.</param>
public sealed record OnnxImportOptions(
    long? InputHeight = null, long? InputWidth = null, string? OutputName = null, bool AnyOutputShape = false, bool EveryOutput = false);
