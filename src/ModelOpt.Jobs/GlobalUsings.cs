global using Microsoft.EntityFrameworkCore;
global using Microsoft.Extensions.Logging;
global using Microsoft.Extensions.Options;
global using ModelOpt.Jobs.Model;
global using CheckpointFormat = ModelOpt.Engine.Checkpoints.CheckpointFormat;
