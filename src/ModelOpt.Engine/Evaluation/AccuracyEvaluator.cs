using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// The notebook's <c>evaluate</c>: top-1 accuracy over the test set in order, without gradients. Every image is scored
/// (the notebook's loader has drop_last=True and scores 9 984 of 10 000), and the count is reported with the result.
/// </summary>
public static class AccuracyEvaluator
{
    public const int DefaultBatchSize = 128;

    /// <summary>Scores a module after switching it to eval mode.</summary>
    public static AccuracyResult Measure(nn.Module<Tensor, Tensor> model, ImageDataset test, int? subset = null, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        model.eval();
        return Measure(model.call, test, subset, batchSize, cancellationToken);
    }

    /// <summary>Scores any forward function (FP32 module, int8 TorchScript, ONNX session) mapping (N,C,32,32) images to (N,classes) logits.</summary>
    /// <param name="subset">Score only the first this many test images; null for all.</param>
    public static AccuracyResult Measure(Func<Tensor, Tensor> forward, ImageDataset test, int? subset = null, int batchSize = DefaultBatchSize, CancellationToken cancellationToken = default)
    {
        using var scored = subset is { } n && n < test.Count ? test.Take(n) : null;
        var data = scored ?? test;
        var correct = 0L;
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var batch in data.Batches(batchSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var predictions = forward(batch.Images).argmax(1);
            correct += predictions.eq(batch.Labels).sum().item<long>();
            scope.DisposeEverything();
        }
        return new AccuracyResult((int)correct, data.Count);
    }
}
