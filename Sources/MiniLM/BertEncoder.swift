/// The BERT encoder over a packed batch: the token sequences of several texts laid end to end as the rows of one
/// matrix, so the dense layers multiply no padding at all; only attention looks at each sequence on its own (which
/// is what the attention mask does for a padded batch). Returns each sequence's mean token vector.
struct BertEncoder: Sendable {
    let configuration: ModelConfiguration
    let weights: EncoderWeights
    let blas: OpenBLAS

    /// Scratch matrices for one packed batch of at most `tokens` rows.
    final class Workspace {
        let hidden: UnsafeMutablePointer<Float>
        let queryKeyValue: UnsafeMutablePointer<Float>
        let context: UnsafeMutablePointer<Float>
        let projected: UnsafeMutablePointer<Float>
        let intermediate: UnsafeMutablePointer<Float>
        let scores: UnsafeMutablePointer<Float>
        let allocations: [UnsafeMutablePointer<Float>]

        init(tokens: Int, longestSequence: Int, configuration c: ModelConfiguration) {
            func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
                let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
                pointer.initialize(repeating: 0, count: max(count, 1))
                return pointer
            }
            hidden = allocate(tokens * c.hiddenSize)
            queryKeyValue = allocate(tokens * 3 * c.hiddenSize)
            context = allocate(tokens * c.hiddenSize)
            projected = allocate(tokens * c.hiddenSize)
            intermediate = allocate(tokens * c.intermediateSize)
            scores = allocate(longestSequence * longestSequence)
            allocations = [hidden, queryKeyValue, context, projected, intermediate, scores]
        }

        deinit {
            for pointer in allocations { pointer.deallocate() }
        }
    }

    /// The mean of the last layer's token vectors of each sequence (not yet normalised), `hiddenSize` floats each.
    func meanPooled(_ sequences: [[Int32]]) -> [[Float]] {
        let lengths = sequences.map(\.count)
        let tokens = lengths.reduce(0, +)
        let workspace = Workspace(tokens: tokens, longestSequence: lengths.max() ?? 0, configuration: configuration)
        embed(sequences, into: workspace.hidden)
        for layer in weights.layers {
            encode(layer, lengths: lengths, tokens: tokens, workspace: workspace)
        }
        return pool(workspace.hidden, lengths: lengths)
    }

    /// Word, position and token-type (all type 0) embeddings summed, then layer-normalised.
    func embed(_ sequences: [[Int32]], into hidden: UnsafeMutablePointer<Float>) {
        let h = configuration.hiddenSize
        weights.wordEmbeddings.withUnsafeBufferPointer { words in
            weights.positionEmbeddings.withUnsafeBufferPointer { positions in
                weights.tokenTypeEmbeddings.withUnsafeBufferPointer { types in
                    var row = 0
                    for sequence in sequences {
                        for (position, id) in sequence.enumerated() {
                            let destination = hidden + row * h
                            let word = words.baseAddress! + Int(id) * h
                            let place = positions.baseAddress! + position * h
                            for index in 0..<h { destination[index] = word[index] + place[index] + types[index] }
                            row += 1
                        }
                    }
                }
            }
        }
        let tokens = sequences.reduce(0) { $0 + $1.count }
        weights.embeddingNormScale.withUnsafeBufferPointer { scale in
            weights.embeddingNormBias.withUnsafeBufferPointer { bias in
                Kernels.layerNorm(
                    hidden, rows: tokens, width: h, scale: scale.baseAddress!, bias: bias.baseAddress!,
                    epsilon: configuration.layerNormEpsilon)
            }
        }
    }

    /// One transformer layer, in place on `workspace.hidden`.
    func encode(_ layer: EncoderWeights.Layer, lengths: [Int], tokens: Int, workspace w: Workspace) {
        let h = configuration.hiddenSize
        let epsilon = configuration.layerNormEpsilon
        layer.queryKeyValue.withUnsafeBufferPointer { weight in
            layer.queryKeyValueBias.withUnsafeBufferPointer { bias in
                blas.linear(
                    w.hidden, rows: tokens, inputs: h, weight: weight.baseAddress!, bias: bias.baseAddress!, outputs: 3 * h,
                    into: w.queryKeyValue)
            }
        }
        attend(lengths: lengths, workspace: w)
        layer.attentionOutput.withUnsafeBufferPointer { weight in
            layer.attentionOutputBias.withUnsafeBufferPointer { bias in
                blas.linear(
                    w.context, rows: tokens, inputs: h, weight: weight.baseAddress!, bias: bias.baseAddress!, outputs: h,
                    into: w.projected)
            }
        }
        Kernels.add(w.projected, to: w.hidden, count: tokens * h)
        layer.attentionNormScale.withUnsafeBufferPointer { scale in
            layer.attentionNormBias.withUnsafeBufferPointer { bias in
                Kernels.layerNorm(w.hidden, rows: tokens, width: h, scale: scale.baseAddress!, bias: bias.baseAddress!, epsilon: epsilon)
            }
        }
        let i = configuration.intermediateSize
        layer.intermediate.withUnsafeBufferPointer { weight in
            layer.intermediateBias.withUnsafeBufferPointer { bias in
                blas.linear(
                    w.hidden, rows: tokens, inputs: h, weight: weight.baseAddress!, bias: bias.baseAddress!, outputs: i,
                    into: w.intermediate)
            }
        }
        Kernels.gelu(w.intermediate, count: tokens * i)
        layer.output.withUnsafeBufferPointer { weight in
            layer.outputBias.withUnsafeBufferPointer { bias in
                blas.linear(
                    w.intermediate, rows: tokens, inputs: i, weight: weight.baseAddress!, bias: bias.baseAddress!, outputs: h,
                    into: w.projected)
            }
        }
        Kernels.add(w.projected, to: w.hidden, count: tokens * h)
        layer.outputNormScale.withUnsafeBufferPointer { scale in
            layer.outputNormBias.withUnsafeBufferPointer { bias in
                Kernels.layerNorm(w.hidden, rows: tokens, width: h, scale: scale.baseAddress!, bias: bias.baseAddress!, epsilon: epsilon)
            }
        }
    }

    /// Scaled dot-product attention of each head within each sequence, from `queryKeyValue` into `context`.
    func attend(lengths: [Int], workspace w: Workspace) {
        let h = configuration.hiddenSize
        let d = configuration.headSize
        let scale = 1 / Float(d).squareRoot()
        var start = 0
        for length in lengths {
            let rows = w.queryKeyValue + start * 3 * h
            for head in 0..<configuration.headCount {
                let query = rows + head * d
                let key = rows + h + head * d
                let value = rows + 2 * h + head * d
                blas.multiply(
                    query, strideA: 3 * h, key, strideB: 3 * h, transposeB: true, m: length, n: length, k: d, alpha: scale,
                    into: w.scores, strideC: length)
                Kernels.softmax(w.scores, rows: length, width: length, stride: length)
                blas.multiply(
                    w.scores, strideA: length, value, strideB: 3 * h, transposeB: false, m: length, n: d, k: length, alpha: 1,
                    into: w.context + start * h + head * d, strideC: h)
            }
            start += length
        }
    }

    func pool(_ hidden: UnsafeMutablePointer<Float>, lengths: [Int]) -> [[Float]] {
        let h = configuration.hiddenSize
        var start = 0
        return lengths.map { length in
            var mean = [Float](repeating: 0, count: h)
            mean.withUnsafeMutableBufferPointer { mean in
                for row in start..<(start + length) {
                    Kernels.add(hidden + row * h, to: mean.baseAddress!, count: h)
                }
                let inverse = 1 / Float(length)
                for index in 0..<h { mean[index] *= inverse }
            }
            start += length
            return mean
        }
    }
}
