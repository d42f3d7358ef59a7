import KubeKit
import NIOCore
import NIOPosix

/// Cluster DNS on the pod network's gateway, port 53 (the nameserver in every pod's resolv.conf): answers from the
/// store at the moment of each query, so readiness changes show at once.
final class ClusterDNSServer: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    static func start(address: String, store: ClusterStore) async throws -> ClusterDNSServer {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in channel.pipeline.addHandler(DNSHandler(store: store)) }
            .bind(host: address, port: 53).get()
        return ClusterDNSServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class DNSHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let store: ClusterStore

    init(store: ClusterStore) { self.store = store }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let query = DNSQuery(Array(envelope.data.readableBytesView)) else { return }
        let store = self.store
        let channel = context.channel
        let remote = envelope.remoteAddress
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        promise.completeWithTask {
            let addresses = ClusterDNSRecords.resolve(
                query.name,
                services: await store.stored(.services), endpoints: await store.stored(.endpoints), pods: await store.stored(.pods))
            return query.response(addresses: addresses)
        }
        promise.futureResult.whenSuccess { bytes in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: bytes)), promise: nil)
        }
    }
}
