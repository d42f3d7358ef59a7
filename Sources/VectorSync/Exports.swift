// The pipeline's settings and errors are stated in terms of the Postgres connection layer (endpoints, TLS modes,
// configuration errors), so whoever uses VectorSync gets that layer with it.
@_exported import VectorBlocksPostgres
