using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Jobs.Contracts;

/// <summary>Allows exactly the engine's <see cref="ActivationObserverNames.Choices"/>, so the API never keeps a list of its own.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ActivationObserverChoiceAttribute() : AllowedValuesAttribute([.. ActivationObserverNames.Choices]);
