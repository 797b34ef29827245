import Foundation

/// Synchronous HTTP(S) through libcurl, streaming the body to a callback: the one transfer shared
/// by the data set installer and the hub downloader. Every transfer reads at most the announced
/// size (`Content-Length`) and at most `HTTPRequest.maxBytes`, holds one receive buffer of memory
/// (`CurlExchange.bufferBytes`; libcurl calls back on the caller's thread, nothing queues up),
/// stops at once when a callback refuses or a bound is passed, fails after `idleTimeout` seconds
/// without data, speaks http and https only, and follows redirects itself (`HTTPRequest.Redirects`),
/// so the authorization goes to the trusted origin only.
public enum HTTPTransfer {
    /// Sends `request`. `onResponse` sees the status and headers before any body byte and may
    /// throw to stop; `onData` gets each chunk of the body (at most 64 KiB) and may throw to stop.
    /// Errors thrown by the callbacks are rethrown as they are; network failures and refused
    /// answers throw `HTTPTransferError`. Returns the answer and how many body bytes arrived.
    @discardableResult
    public static func perform(_ request: HTTPRequest,
                               onResponse: @escaping (HTTPResponse) throws -> Void = { _ in },
                               onData: @escaping (Data) throws -> Void = { _ in }) throws -> (response: HTTPResponse, bytes: Int64) {
        var target = request.url
        for _ in 0...HTTPRequest.maxRedirects {
            let exchange = CurlExchange(request: request, target: target, onResponse: onResponse, onData: onData)
            switch try exchange.run() {
            case let .answered(response, bytes): return (response, bytes)
            case let .redirect(next): target = next
            }
        }
        throw HTTPTransferError(.refused, url: request.url, reason: "more than \(HTTPRequest.maxRedirects) redirects")
    }
}
