global using Microsoft.AspNetCore.Http.HttpResults;
global using Microsoft.EntityFrameworkCore;
global using ModelOpt.Api.Contracts;
global using ModelOpt.Jobs.Contracts;
global using ModelOpt.Jobs.Model;
global using CheckpointFormat = ModelOpt.Engine.Checkpoints.CheckpointFormat;
