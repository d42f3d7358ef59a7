import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS's `cblas_sgemm`, loaded at run time from `libopenblas.so.0` (Debian's libopenblas0) rather than linked:
/// OpenBLAS picks its kernels from the CPU model when it is loaded, and Debian 12's 0.3.21 does not know recent Xeon
/// models, so it falls back to its Prescott (SSE3) kernels, 3 to 4 times slower than the AVX-512 ones the CPU can
/// run. Loading it ourselves lets us first name the kernels from the CPU's feature flags in `OPENBLAS_CORETYPE`,
/// unless the environment already names them (which always wins).
public struct OpenBLAS: Sendable {
    typealias SGEMM =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32, Float,
            UnsafeMutablePointer<Float>?, Int32
        ) -> Void
    typealias CoreName = @convention(c) () -> UnsafeMutablePointer<CChar>?
    typealias ThreadCount = @convention(c) () -> Int32

    // CBLAS's enumerations.
    static let rowMajor: Int32 = 101
    static let noTranspose: Int32 = 111
    static let transpose: Int32 = 112

    let sgemm: SGEMM
    /// The kernels OpenBLAS runs, e.g. SkylakeX, Haswell or Prescott.
    public let coreName: String
    /// The threads each matrix product may use (OpenBLAS's default: one per core, or `OPENBLAS_NUM_THREADS`).
    public let threads: Int

    public static let libraryName = "libopenblas.so.0"

    /// Loaded once per process; the error says what to install.
    public static let shared: Result<OpenBLAS, MiniLMError> = Result { () throws(MiniLMError) in try OpenBLAS() }

    private init() throws(MiniLMError) {
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = Self.coreType(cpuFlags: Self.cpuFlags()) {
            setenv("OPENBLAS_CORETYPE", core, 0)
        }
        guard let handle = dlopen(Self.libraryName, RTLD_NOW | RTLD_LOCAL) else {
            throw .missingFile(
                path: Self.libraryName,
                fix: "the MiniLM embedder multiplies matrices with OpenBLAS: install it (Debian: apt-get install libopenblas0)")
        }
        func symbol<T>(_ name: String, as type: T.Type) throws(MiniLMError) -> T {
            guard let address = dlsym(handle, name) else {
                throw .corruptFile(path: Self.libraryName, problem: "it has no \(name)")
            }
            return unsafeBitCast(address, to: type)
        }
        sgemm = try symbol("cblas_sgemm", as: SGEMM.self)
        coreName = try symbol("openblas_get_corename", as: CoreName.self)().map { String(cString: $0) } ?? "unknown"
        threads = Int(try symbol("openblas_get_num_threads", as: ThreadCount.self)())
    }

    /// The kernels to ask for: AVX-512 (F, BW, VL, DQ) is SkylakeX, AVX2 with FMA is Haswell; otherwise nil, and
    /// OpenBLAS decides.
    static func coreType(cpuFlags: Set<Substring>) -> String? {
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(cpuFlags.contains) { return "Haswell" }
        return nil
    }

    static func cpuFlags() -> Set<Substring> {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }
}

extension OpenBLAS {
    /// `output[rows, outputs] = input[rows, inputs] · weightᵀ + bias`, the weight in PyTorch's `[outputs, inputs]`.
    func linear(
        _ input: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
        outputs: Int, into output: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<rows { (output + row * outputs).update(from: bias, count: outputs) }
        sgemm(
            Self.rowMajor, Self.noTranspose, Self.transpose, Int32(rows), Int32(outputs), Int32(inputs), 1,
            input, Int32(inputs), weight, Int32(inputs), 1, output, Int32(outputs))
    }

    /// `c[m, n] = alpha · a[m, k] · b (transposed when `transposeB`: b is [n, k]) `, with row strides given.
    func multiply(
        _ a: UnsafePointer<Float>, strideA: Int, _ b: UnsafePointer<Float>, strideB: Int, transposeB: Bool,
        m: Int, n: Int, k: Int, alpha: Float, into c: UnsafeMutablePointer<Float>, strideC: Int
    ) {
        sgemm(
            Self.rowMajor, Self.noTranspose, transposeB ? Self.transpose : Self.noTranspose, Int32(m), Int32(n), Int32(k), alpha,
            a, Int32(strideA), b, Int32(strideB), 0, c, Int32(strideC))
    }
}
