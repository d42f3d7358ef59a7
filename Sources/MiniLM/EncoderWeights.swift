import Foundation

/// The BERT encoder's float32 parameters, copied out of `model.safetensors` (PyTorch's `[out, in]` layout) with each
/// layer's query, key and value projections stacked into one `[3 * hidden, hidden]` matrix, so one matrix product
/// computes all three.
struct EncoderWeights: Sendable {
    struct Layer: Sendable {
        var queryKeyValue: [Float]
        var queryKeyValueBias: [Float]
        var attentionOutput: [Float]
        var attentionOutputBias: [Float]
        var attentionNormScale: [Float]
        var attentionNormBias: [Float]
        var intermediate: [Float]
        var intermediateBias: [Float]
        var output: [Float]
        var outputBias: [Float]
        var outputNormScale: [Float]
        var outputNormBias: [Float]
    }

    var wordEmbeddings: [Float]
    var positionEmbeddings: [Float]
    var tokenTypeEmbeddings: [Float]
    var embeddingNormScale: [Float]
    var embeddingNormBias: [Float]
    var layers: [Layer]

    init(file: SafeTensorsFile, configuration c: ModelConfiguration) throws(MiniLMError) {
        // Checkpoints saved from BertForMaskedLM and the like prefix every name with "bert.".
        let prefix =
            file.tensors["embeddings.word_embeddings.weight"] == nil && file.tensors["bert.embeddings.word_embeddings.weight"] != nil
            ? "bert." : ""
        func tensor(_ name: String, _ shape: [Int]) throws(MiniLMError) -> [Float] {
            try file.float32(prefix + name, shape: shape)
        }
        let h = c.hiddenSize
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [c.vocabularySize, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [c.maximumPositions, h])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [c.typeVocabularySize, h])
        embeddingNormScale = try tensor("embeddings.LayerNorm.weight", [h])
        embeddingNormBias = try tensor("embeddings.LayerNorm.bias", [h])
        layers = []
        for index in 0..<c.layerCount {
            let layer = "encoder.layer.\(index)."
            let query = try tensor(layer + "attention.self.query.weight", [h, h])
            let key = try tensor(layer + "attention.self.key.weight", [h, h])
            let value = try tensor(layer + "attention.self.value.weight", [h, h])
            let queryBias = try tensor(layer + "attention.self.query.bias", [h])
            let keyBias = try tensor(layer + "attention.self.key.bias", [h])
            let valueBias = try tensor(layer + "attention.self.value.bias", [h])
            layers.append(
                Layer(
                    queryKeyValue: query + key + value,
                    queryKeyValueBias: queryBias + keyBias + valueBias,
                    attentionOutput: try tensor(layer + "attention.output.dense.weight", [h, h]),
                    attentionOutputBias: try tensor(layer + "attention.output.dense.bias", [h]),
                    attentionNormScale: try tensor(layer + "attention.output.LayerNorm.weight", [h]),
                    attentionNormBias: try tensor(layer + "attention.output.LayerNorm.bias", [h]),
                    intermediate: try tensor(layer + "intermediate.dense.weight", [c.intermediateSize, h]),
                    intermediateBias: try tensor(layer + "intermediate.dense.bias", [c.intermediateSize]),
                    output: try tensor(layer + "output.dense.weight", [h, c.intermediateSize]),
                    outputBias: try tensor(layer + "output.dense.bias", [h]),
                    outputNormScale: try tensor(layer + "output.LayerNorm.weight", [h]),
                    outputNormBias: try tensor(layer + "output.LayerNorm.bias", [h])))
        }
    }
}
