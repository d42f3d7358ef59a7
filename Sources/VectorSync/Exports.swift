// The pipeline's settings and errors are stated in terms of the Postgres connection layer (endpoints, TLS modes,
// configuration errors), and its rows and payloads as JSON values, so whoever uses VectorSync gets both with it.
@_exported import JSONValues
@_exported import VectorBlocksPostgres
