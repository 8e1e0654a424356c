using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>Loads checkpoints into models: validate everything first, then copy, so a model is never half-loaded.</summary>
public static class CheckpointLoader
{
    /// <exception cref="CheckpointFormatException">The file is not a readable checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">It does not fit the model; the model is unchanged.</exception>
    public static void LoadInto(nn.Module model, string path)
    {
        using var checkpoint = CheckpointReader.Read(path);
        LoadInto(model, checkpoint);
    }

    /// <inheritdoc cref="LoadInto(nn.Module, string)"/>
    public static void LoadInto(nn.Module model, Stream stream, string sourceName)
    {
        using var checkpoint = CheckpointReader.Read(stream, sourceName);
        LoadInto(model, checkpoint);
    }

    /// <summary>Copies every entry into the model's own parameters and buffers, converting dtypes as PyTorch does.</summary>
    /// <exception cref="CheckpointMismatchException">It does not fit the model; the model is unchanged.</exception>
    public static void LoadInto(nn.Module model, StateDict checkpoint)
    {
        CheckpointValidator.Validate(checkpoint, model);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var (key, target) in model.state_dict())
        {
            target.copy_(checkpoint.Tensors[key].reshape(target.shape));
        }
    }

    /// <summary>
    /// Builds the named zoo model and loads the checkpoint into it. Without <paramref name="dimensions"/>
    /// the input channels and classes are taken from the checkpoint itself.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is not a readable checkpoint.</exception>
    /// <exception cref="CheckpointMismatchException">It does not fit the architecture.</exception>
    /// <exception cref="UnknownModelException">The zoo has no such model.</exception>
    public static ZooModel Load(string path, string modelName, ModelDimensions? dimensions = null)
    {
        using var checkpoint = CheckpointReader.Read(path);
        var (channels, classes) = dimensions ?? checkpoint.InferDimensions();
        var model = ModelZoo.Create(modelName, channels, classes);
        try
        {
            LoadInto(model, checkpoint);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
