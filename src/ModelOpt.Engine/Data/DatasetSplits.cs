namespace ModelOpt.Engine.Data;

/// <summary>The training and test sets of one dataset; disposing the splits frees both.</summary>
public sealed record DatasetSplits(ImageDataset Train, ImageDataset Test) : IDisposable
{
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}
