import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy (on 127.0.0.1 unless told another local address, such as KubeSim's pod-network gateway, for pods to
/// reach a server of the test) in front of one server on 127.0.0.1, which a test can sever as a network partition would: while
/// severed it keeps every connection open and accepts new ones, but carries no byte either way, so a client's
/// requests hang rather than fail. `heal` closes the connections the partition broke and forwards again.
public final class SeverableProxy: Sendable {
    public let port: Int
    public let host: String
    private let listener: any Channel
    private let state = NIOLockedValueBox(State())

    struct State {
        var severed = false
        var connections: [ObjectIdentifier: any Channel] = [:]
    }

    public var url: String { "http://\(host):\(port)" }

    public static func start(upstreamPort: Int, listeningOn host: String = "127.0.0.1") async throws -> SeverableProxy {
        try await SeverableProxy(upstreamPort: upstreamPort, host: host)
    }

    private init(upstreamPort: Int, host: String) async throws {
        self.host = host
        let state = self.state
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                Self.track(inbound, in: state)
                let handler = ForwardingHandler(state: state)
                let bound = NIOLoopBound(handler, eventLoop: inbound.eventLoop)
                do {
                    try inbound.pipeline.syncOperations.addHandler(handler)
                } catch {
                    return inbound.eventLoop.makeFailedFuture(error)
                }
                return ClientBootstrap(group: inbound.eventLoop)
                    .channelInitializer { outbound in
                        Self.track(outbound, in: state)
                        let back = ForwardingHandler(state: state)
                        back.partner = inbound
                        return outbound.eventLoop.makeCompletedFuture { try outbound.pipeline.syncOperations.addHandler(back) }
                    }
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .map { outbound in bound.value.connected(to: outbound) }
            }
            .bind(host: host, port: 0).get()
        port = listener.localAddress?.port ?? 0
    }

    private static func track(_ channel: any Channel, in state: NIOLockedValueBox<State>) {
        let id = ObjectIdentifier(channel)
        state.withLockedValue { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { _ in _ = state.withLockedValue { $0.connections.removeValue(forKey: id) } }
    }

    /// From now on nothing passes, in either direction, on open connections or new ones.
    public func sever() {
        state.withLockedValue { $0.severed = true }
    }

    /// Closes every connection open now (their streams lost bytes) and forwards again on new ones.
    public func heal() {
        let broken = state.withLockedValue { state in
            state.severed = false
            return Array(state.connections.values)
        }
        for channel in broken { channel.close(promise: nil) }
    }

    public func shutdown() async throws {
        heal()
        try await listener.close()
    }
}

/// Copies what one side reads to the other, unless the proxy is severed.
private final class ForwardingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let state: NIOLockedValueBox<SeverableProxy.State>
    var partner: (any Channel)?
    private var pending: [ByteBuffer] = []

    init(state: NIOLockedValueBox<SeverableProxy.State>) {
        self.state = state
    }

    func connected(to partner: any Channel) {
        self.partner = partner
        for buffer in pending { partner.write(buffer, promise: nil) }
        partner.flush()
        pending = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !state.withLockedValue(\.severed) else { return }
        let buffer = unwrapInboundIn(data)
        if let partner {
            partner.writeAndFlush(buffer, promise: nil)
        } else {
            pending.append(buffer)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
