using System.ComponentModel;
using System.Globalization;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// A field's description that names the engine's facts by token — {observers}, {auto}, {auto-candidates},
/// {validation-images} — so the documentation never repeats a list or a number of its own.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class EngineDescriptionAttribute(string text) : DescriptionAttribute(text
    .Replace("{observers}", string.Join(" | ", ActivationObserverNames.Choices), StringComparison.Ordinal)
    .Replace("{auto-candidates}", string.Join(", ", ActivationObserverNames.AutoCandidates), StringComparison.Ordinal)
    .Replace("{auto}", ActivationObserverNames.Auto, StringComparison.Ordinal)
    .Replace("{validation-images}", QuantizationOptions.DefaultValidationImages.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
