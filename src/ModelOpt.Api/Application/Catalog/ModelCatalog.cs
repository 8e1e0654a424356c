using ModelOpt.Engine.Models;

namespace ModelOpt.Api.Application.Catalog;

/// <summary>The models a job or an upload can name, as the API lists and checks them; the engine's zoo is behind it.</summary>
public static class ModelCatalog
{
    /// <summary>The models the API's examples use: the notebook's, and the small one a quick job trains.</summary>
    public const string NotebookModel = ModelZoo.ResNet18Cifar;
    public const string SmallModel = ModelZoo.ResNet20;

    /// <summary>The listing's parameter counts are for RGB input and 10 classes; a job adapts both to its dataset.</summary>
    public const int ListedInputChannels = 3;
    public const int ListedClasses = 10;

    // Counting parameters builds each model once; the answer never changes while the process lives.
    private static readonly Lazy<IReadOnlyList<ModelDto>> Listing = new(() =>
        [.. ModelZoo.All.Select(m => new ModelDto(m.Name, m.Description, m.ParameterCount(ListedInputChannels, ListedClasses), ListedInputChannels, ListedClasses))]);

    public static IReadOnlyList<ModelDto> Models => Listing.Value;

    public static bool IsKnown(string name) => ModelZoo.All.Any(m => m.Name == name);

    /// <summary>Why a name is refused, in the engine's own words (the same text a worker would give).</summary>
    public static string UnknownModelReason(string name) => new UnknownModelException(name, ModelZoo.All.Select(m => m.Name)).Message;
}
