import Foundation
import TestSupport
import Testing

/// A Dockerfile as its instructions: continuation lines joined, comments and blank lines dropped, and the
/// stages split at each FROM. No Docker engine runs here, so these checks are what the images get before CI builds
/// them.
private struct Dockerfile {
    struct Instruction {
        var keyword: String
        var arguments: String
    }

    struct Stage {
        var base: String
        var name: String?
        var instructions: [Instruction]

        func all(_ keyword: String) -> [String] {
            instructions.filter { $0.keyword == keyword }.map(\.arguments)
        }
    }

    /// ARGs declared before the first FROM, with their defaults; FROM lines may use them.
    var globalArguments: [String: String] = [:]
    var stages: [Stage] = []

    init(_ text: String) throws {
        var logical: [String] = []
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (trimmed.isEmpty || trimmed.hasPrefix("#")) { continue }
            if trimmed.hasSuffix("\\") {
                pending += trimmed.dropLast().trimmingCharacters(in: .whitespaces) + " "
            } else {
                logical.append(pending + trimmed)
                pending = ""
            }
        }
        if !pending.isEmpty { throw TestSetupError("the last instruction ends with a line continuation") }
        for line in logical {
            let parts = line.split(separator: " ", maxSplits: 1)
            let instruction = Instruction(keyword: parts[0].uppercased(), arguments: parts.count > 1 ? String(parts[1]) : "")
            switch instruction.keyword {
            case "FROM":
                let words = instruction.arguments.split(separator: " ").map(String.init)
                let name = words.count == 3 && words[1].uppercased() == "AS" ? words[2] : nil
                stages.append(Stage(base: resolve(words[0]), name: name, instructions: []))
            case "ARG" where stages.isEmpty:
                let pair = instruction.arguments.split(separator: "=", maxSplits: 1).map(String.init)
                globalArguments[pair[0]] = pair.count > 1 ? pair[1] : ""
            default:
                guard !stages.isEmpty else { throw TestSetupError("\(instruction.keyword) before the first FROM") }
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
    }

    /// `${NAME}` and `$NAME` replaced by the global ARG defaults.
    func resolve(_ word: String) -> String {
        var result = word
        for (name, value) in globalArguments {
            result = result.replacingOccurrences(of: "${\(name)}", with: value).replacingOccurrences(of: "$\(name)", with: value)
        }
        return result
    }
}

@Suite("Dockerfiles of the images")
struct DockerfileTests {
    /// The file under deploy/docker and the SwiftPM product it builds (DESIGN §3: the executables' names).
    static let images: [(file: String, product: String)] = [
        ("operator", "vectorblocks-operator"), ("kbctl", "kbctl"), ("pelican", "pelican"), ("emu", "emu"),
        ("backup", "vectorblocks-backup"),
    ]

    private func dockerfile(_ name: String) throws -> Dockerfile {
        try Dockerfile(String(contentsOf: repositoryFile("deploy/docker/\(name).Dockerfile"), encoding: .utf8))
    }

    @Test("deploy/docker holds exactly the five images")
    func exactlyTheImages() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repositoryFile("deploy/docker").path)
        #expect(Set(files) == Set(Self.images.map { "\($0.file).Dockerfile" }))
    }

    @Test(
        "multi-stage: a Swift build stage builds the named product statically, a slim stage runs it, asset stages only fetch",
        arguments: images.map(\.file))
    func multiStage(file: String) throws {
        let product = try #require(Self.images.first { $0.file == file }?.product)
        let dockerfile = try dockerfile(file)
        #expect(dockerfile.stages.count >= 2, "\(file): a build and a runtime stage")
        let build = try #require(dockerfile.stages.first)
        let runtime = try #require(dockerfile.stages.last)
        // Stages between them only fetch assets (Emu's model and OpenBLAS): named, building nothing, copied from.
        for assets in dockerfile.stages.dropFirst().dropLast() {
            let name = try #require(assets.name, "\(file): an asset stage is named, for COPY --from")
            #expect(assets.all("RUN").allSatisfy { !$0.contains("swift ") }, "\(file): the stage \(name) builds no Swift")
            #expect(runtime.all("COPY").contains { $0.hasPrefix("--from=\(name) ") }, "\(file): the runtime uses the stage \(name)")
        }
        let buildName = try #require(build.name, "\(file): the build stage is named, for COPY --from")
        #expect(build.base.hasPrefix("swift:6."), "\(file): build stage from \(build.base)")

        let builds = build.all("RUN").filter { $0.contains("swift build") && !$0.contains("--show-bin-path") }
        #expect(builds.count == 1, "\(file): \(builds)")
        let words = builds.first?.split(separator: " ").map(String.init) ?? []
        #expect(words.firstIndex(of: "--product").map { words[$0 + 1] } == product, "\(file) builds \(words)")
        #expect(words.contains("--static-swift-stdlib"))
        #expect(words.firstIndex(of: "-c").map { words[$0 + 1] } == "release")

        #expect(
            runtime.base == "gcr.io/distroless/cc-debian12:nonroot" || runtime.base == "debian:bookworm-slim",
            "\(file): runtime stage from \(runtime.base)")
        #expect(runtime.all("COPY").contains { $0.hasPrefix("--from=\(buildName) ") }, "\(file): the runtime gets the build's output")
        #expect(runtime.all("RUN").allSatisfy { !$0.contains("swift ") }, "\(file): nothing is built in the runtime stage")
        let entrypoint = try #require(runtime.all("ENTRYPOINT").last)
        let command = try JSONDecoder().decode([String].self, from: Data(entrypoint.utf8))
        #expect(command.first.map { ($0 as NSString).lastPathComponent } == product, "\(file): ENTRYPOINT \(entrypoint)")
    }

    @Test("the runtime stage runs as a non-root user", arguments: images.map(\.file))
    func nonRoot(file: String) throws {
        let runtime = try #require(try dockerfile(file).stages.last)
        let user = try #require(runtime.all("USER").last, "\(file): the runtime stage sets USER")
        let name = String(user.split(separator: ":").first ?? "")
        #expect(!["root", "0", ""].contains(name), "\(file): USER \(user)")
        #expect(Int(name).map { $0 >= 1000 } ?? true, "\(file): USER \(user) is a system uid")
        #expect(name == "65532", "\(file): USER \(user), not distroless's nonroot uid, which the manifests' runAsUser names")
    }

    @Test("no secret is baked into an image", arguments: images.map(\.file))
    func noSecrets(file: String) throws {
        let dockerfile = try dockerfile(file)
        let secretish = /(?i)(key|secret|token|passw|credential|auth)/
        for stage in dockerfile.stages {
            for setting in stage.all("ENV") + stage.all("ARG") {
                let name = String(setting.split(separator: "=").first ?? "")
                #expect(name.firstMatch(of: secretish) == nil, "\(file): \(setting)")
            }
            for copy in stage.all("COPY") + stage.all("ADD") {
                #expect(copy.firstMatch(of: /(?i)(\.env\b|\.pem|\.key|kubeconfig|\.aws|\.ssh)/) == nil, "\(file): COPY \(copy)")
            }
        }
        for name in dockerfile.globalArguments.keys {
            #expect(name.firstMatch(of: secretish) == nil, "\(file): ARG \(name)")
        }
    }

    @Test(
        "the images whose program links zlib (PostgresBackup's gzip) build with its headers and carry libz.so.1, which distroless's cc lacks",
        arguments: ["operator", "backup"])
    func zlib(file: String) throws {
        let dockerfile = try dockerfile(file)
        let build = try #require(dockerfile.stages.first)
        let runtime = try #require(dockerfile.stages.last)
        #expect(build.all("RUN").contains { $0.contains("/usr/include/zlib.h") && $0.contains("zlib1g-dev") }, "\(file)")
        #expect(build.all("RUN").contains { $0.contains("libz.so.1") }, "\(file): libz.so.1 staged")
        let libraryPath = try #require(runtime.all("ENV").first { $0.hasPrefix("LD_LIBRARY_PATH=") }, "\(file)")
        let directory = String(libraryPath.dropFirst("LD_LIBRARY_PATH=".count))
        #expect(runtime.all("COPY").contains { $0.hasPrefix("--from=build ") && ($0.hasSuffix(" " + directory) || $0.hasSuffix(" /app")) }, "\(file)")
    }

    @Test(".dockerignore keeps build products, caches and git out of the build context")
    func dockerignore() throws {
        let lines = try String(contentsOf: repositoryFile(".dockerignore"), encoding: .utf8)
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.hasPrefix("#") }
        for pattern in [".build", ".build-*", ".build_*", ".cache", ".git", ".swiftpm", "Package.resolved"] {
            #expect(lines.contains(pattern), ".dockerignore lacks \(pattern)")
        }
    }

    @Test("the parser reads continuations, global ARGs and stages")
    func parser() throws {
        let dockerfile = try Dockerfile(
            """
            # a comment
            ARG BASE=swift:6.3-bookworm
            FROM ${BASE} AS build
            RUN swift build \\
                --product x
            FROM scratch
            USER 1000
            """)
        #expect(dockerfile.stages.map(\.base) == ["swift:6.3-bookworm", "scratch"])
        #expect(dockerfile.stages.first?.name == "build")
        #expect(dockerfile.stages.first?.all("RUN") == ["swift build --product x"])
        #expect(dockerfile.stages.last?.all("USER") == ["1000"])
        #expect(throws: TestSetupError.self) { try Dockerfile("RUN true") }
    }
}
