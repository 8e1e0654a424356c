using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Engine.Pipeline;

/// <summary>Allows exactly the engine's <see cref="ActivationObserverNames.Choices"/>, so the settings never keep a list of their own.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ActivationObserverChoiceAttribute() : AllowedValuesAttribute([.. ActivationObserverNames.Choices]);
