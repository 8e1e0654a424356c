using ModelOpt.Engine.Graph;
using TorchSharp.Modules;

namespace ModelOpt.Engine.Models;

/// <summary>An architecture of the zoo: an eager TorchSharp module with torchvision's state_dict names that can trace itself into a graph.</summary>
public abstract class ZooModel(string name) : nn.Module<Tensor, Tensor>(name), ITraceable
{
    public abstract GraphValue Trace(GraphBuilder graph, GraphValue input);

    /// <summary>torchvision's initialisation: Kaiming-normal convs (fan_out, relu), unit BN.</summary>
    protected void InitializeTorchVisionWeights()
    {
        using var _ = no_grad();
        foreach (var (_, module) in named_modules())
        {
            switch (module)
            {
                case Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanOut, nonlinearity: nn.init.NonlinearityType.ReLU);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight);
                    nn.init.zeros_(bn.bias);
                    break;
            }
        }
    }
}
