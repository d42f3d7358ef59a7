/// The encoder's element-wise arithmetic on row-major float32 matrices (the matrix products are `OpenBLAS`'s), in
/// plain loops the optimiser vectorises: no libm call inside a loop, `exp` and `erf` are polynomials here.
enum Kernels {
    /// Each row of `x` normalised to zero mean and unit variance (the biased variance, as PyTorch), then scaled.
    static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        epsilon: Float
    ) {
        for row in 0..<rows {
            let values = x + row * width
            var sum: Float = 0
            for index in 0..<width { sum += values[index] }
            let mean = sum / Float(width)
            var squares: Float = 0
            for index in 0..<width {
                let centred = values[index] - mean
                squares += centred * centred
            }
            let inverseDeviation = 1 / (squares / Float(width) + epsilon).squareRoot()
            for index in 0..<width { values[index] = (values[index] - mean) * inverseDeviation * scale[index] + bias[index] }
        }
    }

    static func add(_ addend: UnsafePointer<Float>, to x: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count { x[index] += addend[index] }
    }

    /// GELU with the error function (BERT's `gelu`, not the tanh approximation): x · (1 + erf(x / √2)) / 2.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for index in 0..<count {
            let value = x[index]
            x[index] = 0.5 * value * (1 + erf(value * 0.707_106_77))
        }
    }

    /// Softmax of each row, in place.
    static func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int) {
        for row in 0..<rows {
            let values = x + row * stride
            var maximum = -Float.infinity
            for index in 0..<width { maximum = max(maximum, values[index]) }
            // Exponentials and their sum in separate loops: the first vectorises only without the sum in it.
            for index in 0..<width { values[index] = exp(values[index] - maximum) }
            var sum: Float = 0
            for index in 0..<width { sum += values[index] }
            let inverse = 1 / sum
            for index in 0..<width { values[index] *= inverse }
        }
    }

    /// eˣ to about 1 ulp: x = n·ln 2 + r with |r| ≤ ln 2 / 2, eʳ by Cephes' polynomial, 2ⁿ in the exponent bits.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = min(max(x, -87.0), 88.0)
        // n = round(x / ln 2) by adding 1.5·2²³, which leaves n in the low bits of the sum's significand: no libm
        // `rounded()` and no checked conversion to an integer, either of which would keep the loops from vectorising.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
        let r2 = r * r
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let er = p * r2 + r + 1
        return er * Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    }

    /// erf(x) to 1.5·10⁻⁷ (Abramowitz and Stegun 7.1.26), odd by symmetry.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p: Float = 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return x < 0 ? -y : y
    }
}
