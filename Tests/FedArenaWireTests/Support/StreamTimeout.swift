import FedArenaCore

/// What waiting on a stream produced.
enum Awaited<Element: Sendable>: Sendable {
    case value(Element)
    case finished
    case timedOut

    var value: Element? {
        if case .value(let element) = self { return element }
        return nil
    }

    var isFinished: Bool {
        if case .finished = self { return true }
        return false
    }
}

/// The next element of `stream`, or `.finished`, or `.timedOut` after `timeout` (which fails
/// the test instead of hanging it; the stream is unusable afterwards).
func next<Element: Sendable>(_ stream: AsyncStream<Element>, timeout: Duration = .seconds(5)) async -> Awaited<Element> {
    await withTaskGroup(of: Awaited<Element>.self) { group in
        group.addTask {
            var iterator = stream.makeAsyncIterator()
            if let element = await iterator.next() { return .value(element) }
            return Task.isCancelled ? .timedOut : .finished
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return .timedOut
        }
        let first = await group.next() ?? .timedOut
        group.cancelAll()
        return first
    }
}

/// Collects `count` elements, stopping early at a timeout or the end of the stream.
func collect<Element: Sendable>(_ count: Int, from stream: AsyncStream<Element>, timeout: Duration = .seconds(5)) async -> [Element] {
    var elements: [Element] = []
    while elements.count < count, let element = await next(stream, timeout: timeout).value {
        elements.append(element)
    }
    return elements
}

/// The `TransportError` thrown by `body`, or `nil` if it did not throw (or threw something else).
func transportError(_ body: () throws -> Void) -> TransportError? {
    do {
        try body()
        return nil
    } catch {
        return error as? TransportError
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(15), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
