import Foundation

/// The shape of a sentence-transformers BERT model, from its directory's `config.json` (the encoder),
/// `sentence_bert_config.json` (the sequence length) and `1_Pooling/config.json` (the pooling, which must be the mean
/// of the token vectors). Anything this embedder does not run is refused here, naming the file and the field.
public struct ModelConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maximumPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    /// Tokens per text, `[CLS]` and `[SEP]` included; longer texts are truncated.
    public var maximumSequenceLength: Int

    public var headSize: Int { hiddenSize / headCount }

    struct EncoderFile: Decodable {
        var modelType: String?
        var hiddenAct: String?
        var positionEmbeddingType: String?
        var vocabSize: Int
        var hiddenSize: Int
        var numHiddenLayers: Int
        var numAttentionHeads: Int
        var intermediateSize: Int
        var maxPositionEmbeddings: Int
        var typeVocabSize: Int
        var layerNormEps: Float?
    }

    struct SentenceFile: Decodable {
        var maxSeqLength: Int
        var doLowerCase: Bool?
    }

    struct PoolingFile: Decodable {
        var wordEmbeddingDimension: Int?
        var poolingModeMeanTokens: Bool?
        var poolingModeClsToken: Bool?
        var poolingModeMaxTokens: Bool?
        var poolingModeMeanSqrtLenTokens: Bool?
    }

    public init(directory: URL) throws(MiniLMError) {
        let encoderURL = directory.appendingPathComponent("config.json")
        let encoder: EncoderFile = try Self.decode(encoderURL, what: "the encoder's configuration")
        let sentenceURL = directory.appendingPathComponent("sentence_bert_config.json")
        let sentence: SentenceFile = try Self.decode(sentenceURL, what: "sentence-transformers' configuration")
        let poolingURL = directory.appendingPathComponent("1_Pooling/config.json")
        let pooling: PoolingFile = try Self.decode(poolingURL, what: "the pooling configuration")

        func refuse(_ url: URL, _ problem: String) -> MiniLMError { .unsupportedModel(path: url.path, problem: problem) }
        if let type = encoder.modelType, type != "bert" { throw refuse(encoderURL, "model_type is \(type), not bert") }
        if let act = encoder.hiddenAct, act != "gelu" { throw refuse(encoderURL, "hidden_act is \(act); only gelu (erf) is implemented") }
        if let position = encoder.positionEmbeddingType, position != "absolute" {
            throw refuse(encoderURL, "position_embedding_type is \(position); only absolute is implemented")
        }
        guard encoder.numAttentionHeads > 0, encoder.hiddenSize % encoder.numAttentionHeads == 0 else {
            throw refuse(encoderURL, "hidden_size \(encoder.hiddenSize) is not a multiple of num_attention_heads \(encoder.numAttentionHeads)")
        }
        guard encoder.vocabSize > 0, encoder.numHiddenLayers > 0, encoder.intermediateSize > 0, encoder.typeVocabSize > 0 else {
            throw refuse(encoderURL, "vocab_size, num_hidden_layers, intermediate_size and type_vocab_size must be positive")
        }
        guard (2...encoder.maxPositionEmbeddings).contains(sentence.maxSeqLength) else {
            throw refuse(
                sentenceURL, "max_seq_length \(sentence.maxSeqLength) is not within 2...\(encoder.maxPositionEmbeddings) (max_position_embeddings)")
        }
        if sentence.doLowerCase == true {
            throw refuse(sentenceURL, "do_lower_case true is not implemented (the tokenizer lower-cases by itself)")
        }
        let otherModes = [pooling.poolingModeClsToken, pooling.poolingModeMaxTokens, pooling.poolingModeMeanSqrtLenTokens]
        guard pooling.poolingModeMeanTokens == true, !otherModes.contains(true) else {
            throw refuse(poolingURL, "only pooling_mode_mean_tokens is implemented")
        }
        if let dimension = pooling.wordEmbeddingDimension, dimension != encoder.hiddenSize {
            throw refuse(poolingURL, "word_embedding_dimension \(dimension) is not the encoder's hidden_size \(encoder.hiddenSize)")
        }
        vocabularySize = encoder.vocabSize
        hiddenSize = encoder.hiddenSize
        layerCount = encoder.numHiddenLayers
        headCount = encoder.numAttentionHeads
        intermediateSize = encoder.intermediateSize
        maximumPositions = encoder.maxPositionEmbeddings
        typeVocabularySize = encoder.typeVocabSize
        layerNormEpsilon = encoder.layerNormEps ?? 1e-12
        maximumSequenceLength = sentence.maxSeqLength
    }

    static func decode<T: Decodable>(_ url: URL, what: String) throws(MiniLMError) -> T {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .missingFile(path: url.path, fix: "the model directory needs \(what)")
        }
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(T.self, from: data)
        } catch {
            throw .corruptFile(path: url.path, problem: "it is not the expected JSON (\(error))")
        }
    }
}
