namespace ModelOpt.Engine.Graph;

/// <summary>A module that can describe its forward pass as graph nodes, so passes and backends never need per-model code.</summary>
public interface ITraceable
{
    GraphValue Trace(GraphBuilder graph, GraphValue input);
}
