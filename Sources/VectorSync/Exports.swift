// The pipeline's settings and errors are stated in terms of the Postgres connection layer (endpoints, TLS modes,
// configuration errors), and its rows and payloads as JSON values, so whoever uses VectorSync gets both with it.
@_exported import JSONValues
// Its SQS queue signs and authenticates with the AWS pieces it shares with the S3 client.
@_exported import ObjectStorage
@_exported import VectorBlocksPostgres
