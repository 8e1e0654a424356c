namespace ModelOpt.Jobs.Options;

/// <summary>How a worker reaches the artifact store.</summary>
public enum ArtifactAccess
{
    /// <summary>The store's folder is mounted on the worker (single host, compose volume, NFS): files are read and written in place.</summary>
    SharedFolder,

    /// <summary>Only the API's host keeps the store: inputs are downloaded from the API and artifacts uploaded to it, SHA-256 checked.</summary>
    Api,
}
