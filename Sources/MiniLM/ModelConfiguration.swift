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
        var model_type: String?
        var hidden_act: String?
        var position_embedding_type: String?
        var vocab_size: Int
        var hidden_size: Int
        var num_hidden_layers: Int
        var num_attention_heads: Int
        var intermediate_size: Int
        var max_position_embeddings: Int
        var type_vocab_size: Int
        var layer_norm_eps: Float?
    }

    struct SentenceFile: Decodable {
        var max_seq_length: Int
        var do_lower_case: Bool?
    }

    struct PoolingFile: Decodable {
        var word_embedding_dimension: Int?
        var pooling_mode_mean_tokens: Bool?
        var pooling_mode_cls_token: Bool?
        var pooling_mode_max_tokens: Bool?
        var pooling_mode_mean_sqrt_len_tokens: Bool?
    }

    public init(directory: URL) throws(MiniLMError) {
        let encoderURL = directory.appendingPathComponent("config.json")
        let encoder: EncoderFile = try Self.decode(encoderURL, what: "the encoder's configuration")
        let sentenceURL = directory.appendingPathComponent("sentence_bert_config.json")
        let sentence: SentenceFile = try Self.decode(sentenceURL, what: "sentence-transformers' configuration")
        let poolingURL = directory.appendingPathComponent("1_Pooling/config.json")
        let pooling: PoolingFile = try Self.decode(poolingURL, what: "the pooling configuration")

        func refuse(_ url: URL, _ problem: String) -> MiniLMError { .unsupportedModel(path: url.path, problem: problem) }
        if let type = encoder.model_type, type != "bert" { throw refuse(encoderURL, "model_type is \(type), not bert") }
        if let act = encoder.hidden_act, act != "gelu" { throw refuse(encoderURL, "hidden_act is \(act); only gelu (erf) is implemented") }
        if let position = encoder.position_embedding_type, position != "absolute" {
            throw refuse(encoderURL, "position_embedding_type is \(position); only absolute is implemented")
        }
        guard encoder.num_attention_heads > 0, encoder.hidden_size % encoder.num_attention_heads == 0 else {
            throw refuse(encoderURL, "hidden_size \(encoder.hidden_size) is not a multiple of num_attention_heads \(encoder.num_attention_heads)")
        }
        guard encoder.vocab_size > 0, encoder.num_hidden_layers > 0, encoder.intermediate_size > 0, encoder.type_vocab_size > 0 else {
            throw refuse(encoderURL, "vocab_size, num_hidden_layers, intermediate_size and type_vocab_size must be positive")
        }
        guard (2...encoder.max_position_embeddings).contains(sentence.max_seq_length) else {
            throw refuse(sentenceURL, "max_seq_length \(sentence.max_seq_length) is not within 2...\(encoder.max_position_embeddings) (max_position_embeddings)")
        }
        if sentence.do_lower_case == true {
            throw refuse(sentenceURL, "do_lower_case true is not implemented (the tokenizer lower-cases by itself)")
        }
        let otherModes = [pooling.pooling_mode_cls_token, pooling.pooling_mode_max_tokens, pooling.pooling_mode_mean_sqrt_len_tokens]
        guard pooling.pooling_mode_mean_tokens == true, !otherModes.contains(true) else {
            throw refuse(poolingURL, "only pooling_mode_mean_tokens is implemented")
        }
        if let dimension = pooling.word_embedding_dimension, dimension != encoder.hidden_size {
            throw refuse(poolingURL, "word_embedding_dimension \(dimension) is not the encoder's hidden_size \(encoder.hidden_size)")
        }
        vocabularySize = encoder.vocab_size
        hiddenSize = encoder.hidden_size
        layerCount = encoder.num_hidden_layers
        headCount = encoder.num_attention_heads
        intermediateSize = encoder.intermediate_size
        maximumPositions = encoder.max_position_embeddings
        typeVocabularySize = encoder.type_vocab_size
        layerNormEpsilon = encoder.layer_norm_eps ?? 1e-12
        maximumSequenceLength = sentence.max_seq_length
    }

    static func decode<T: Decodable>(_ url: URL, what: String) throws(MiniLMError) -> T {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw .missingFile(path: url.path, fix: "the model directory needs \(what)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .corruptFile(path: url.path, problem: "it is not the expected JSON (\(error))")
        }
    }
}
