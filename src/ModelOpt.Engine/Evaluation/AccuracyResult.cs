namespace ModelOpt.Engine.Evaluation;

/// <summary>Top-1 accuracy as a fraction in [0, 1], with how many test images it was measured on.</summary>
public sealed record AccuracyResult(int Correct, int ImagesScored)
{
    public double Accuracy => ImagesScored == 0 ? 0 : (double)Correct / ImagesScored;
}
