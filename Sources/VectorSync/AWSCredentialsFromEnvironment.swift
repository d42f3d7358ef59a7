import AsyncHTTPClient

extension AWSCredentialProvider {
    /// The provider the environment describes for an `sqs` queue, or a configuration error naming the queue's
    /// credentials setting when the environment holds none.
    public static func fromEnvironment(_ environment: [String: String], region: String, http: HTTPClient) throws(ConfigurationError) -> AWSCredentialProvider {
        guard let provider = environmentProvider(environment, region: region, http: http) else {
            throw ConfigurationError(
                field: "queue.sqs.credentialsSecretName",
                problem: "no AWS credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are set",
                fix: "name a Secret with the access key, or give the pod an IAM role (IRSA)")
        }
        return provider
    }
}
