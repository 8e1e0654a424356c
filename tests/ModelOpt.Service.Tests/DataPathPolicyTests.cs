using Microsoft.Extensions.Options;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Service.Tests;

/// <summary>A job's dataPath may name only folders on or below the roots an admin lists; none are listed by default.</summary>
public sealed class DataPathPolicyTests
{
    private static DatasetLocations Locations(params string[] roots) =>
        new(Options.Create(new DatasetOptions { AllowedDataRoots = [.. roots] }));

    [Theory]
    [InlineData("/srv/data")]
    [InlineData("/srv/data/")]
    [InlineData("/srv/data/cifar-10-batches-bin")]
    [InlineData("/srv/data/a/../cifar")]
    public void A_folder_on_or_below_a_listed_root_is_accepted(string dataPath) =>
        Assert.Null(Locations("/srv/data/").RefusedDataPath(dataPath));

    [Theory]
    [InlineData("/srv/database", "must lie in one of the folders")]
    [InlineData("/srv/data/../../etc", "must lie in one of the folders")]
    [InlineData("/etc", "must lie in one of the folders")]
    [InlineData("data/cifar", "absolute")]
    [InlineData("/srv/data/\0cifar", "absolute")]
    public void Any_other_folder_is_refused(string dataPath, string reason) =>
        Assert.Contains(reason, Locations("/srv/data").RefusedDataPath(dataPath));

    [Fact]
    public void Without_listed_roots_every_data_path_is_refused_naming_the_setting() =>
        Assert.Contains("ModelOpt:Datasets:AllowedDataRoots", Locations().RefusedDataPath("/usr/share/datasets/fashion-mnist"));
}
