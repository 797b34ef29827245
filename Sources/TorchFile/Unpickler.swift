import Foundation

/// A pickle reader for state dicts that runs nothing. It knows the opcodes `torch.save` emits for
/// a dict of tensors (protocols 2 to 5) and builds only `PickleValue`s: `GLOBAL` resolves to one
/// of the allowlisted `PickleGlobal`s or the file is refused, `REDUCE` calls only those (an empty
/// OrderedDict, a tensor view of a storage), `BINPERSID` only names storages. Containers nest at
/// most `maxDepth` deep and cannot contain themselves; everything it allocates is bounded by the
/// size of the input.
struct Unpickler {
    struct Failure: Error {
        let reason: String
    }

    /// Deepest nesting accepted (a state dict with `_metadata` is 4 deep).
    static let maxDepth = 32
    /// Most dimensions of a tensor.
    static let maxRank = 16

    private let bytes: [UInt8]
    private var at = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [UInt64: PickleValue] = [:]
    /// The storages seen, by key: every use of a key must agree on dtype and size.
    private(set) var storages: [String: StorageReference] = [:]

    /// Refuse every global, call and storage: plain containers and scalars only (`PlainPickle`).
    private let plainOnly: Bool

    init(_ bytes: [UInt8], plainOnly: Bool = false) {
        self.bytes = bytes
        self.plainOnly = plainOnly
    }

    /// Runs the program to `STOP` and returns its single result.
    mutating func load() throws -> PickleValue {
        while true {
            let code = try byte()
            if code == 0x2E {  // STOP
                guard stack.count == 1, marks.isEmpty else { throw fail("the program ends with \(stack.count) values on its stack") }
                return stack[0]
            }
            try step(code)
        }
    }

    private func fail(_ reason: String) -> Failure { Failure(reason: reason) }

    // MARK: Opcodes

    private mutating func step(_ code: UInt8) throws {
        if plainOnly, [0x63, 0x93, 0x51, 0x52, 0x62].contains(code) {
            throw fail(String(format: "pickle opcode 0x%02X at byte %d names or calls a Python object; only plain lists, dicts, strings and numbers are read", code, at - 1))
        }
        switch code {
        case 0x80: guard try byte() <= 5 else { throw fail("an unknown pickle protocol") }  // PROTO
        case 0x95: _ = try take(8)  // FRAME: a length hint only
        case 0x28: marks.append(stack.count)  // MARK
        case 0x7D: stack.append(.dict(PickleDict()))  // EMPTY_DICT
        case 0x5D: stack.append(.list(PickleList()))  // EMPTY_LIST
        case 0x29: stack.append(try tuple([]))  // EMPTY_TUPLE
        case 0x74: stack.append(try tuple(popMark()))  // TUPLE
        case 0x85, 0x86, 0x87: stack.append(try tuple(pop(Int(code) - 0x84)))  // TUPLE1..3
        case 0x4E: stack.append(.none)
        case 0x88: stack.append(.bool(true))
        case 0x89: stack.append(.bool(false))
        case 0x4B: stack.append(.int(Int(try byte())))  // BININT1
        case 0x4D: stack.append(.int(Int(try little(2))))  // BININT2
        case 0x4A: stack.append(.int(Int(Int32(truncatingIfNeeded: try little(4)))))  // BININT
        case 0x8A: stack.append(.int(try long1()))
        case 0x47: stack.append(.float(Double(bitPattern: try big(8))))  // BINFLOAT
        case 0x58: stack.append(.string(try text(Int(try little(4)))))  // BINUNICODE
        case 0x8C: stack.append(.string(try text(Int(try byte()))))  // SHORT_BINUNICODE
        case 0x8D: stack.append(.string(try text(try length(try little(8)))))  // BINUNICODE8
        case 0x71: try put(UInt64(try byte()))  // BINPUT
        case 0x72: try put(try little(4))  // LONG_BINPUT
        case 0x94: try put(UInt64(memo.count))  // MEMOIZE
        case 0x68: try get(UInt64(try byte()))  // BINGET
        case 0x6A: try get(try little(4))  // LONG_BINGET
        case 0x63: try global(try line(), try line())  // GLOBAL
        case 0x93:  // STACK_GLOBAL
            let parts = try pop(2)
            guard case let .string(module) = parts[0], case let .string(name) = parts[1] else { throw fail("STACK_GLOBAL needs two strings") }
            try global(module, name)
        case 0x51: try persistentID()  // BINPERSID
        case 0x52: try reduce()  // REDUCE
        case 0x62: try build()  // BUILD
        case 0x73: try setItems(pop(2))  // SETITEM
        case 0x75: try setItems(popMark())  // SETITEMS
        case 0x61: try append(pop(1))  // APPEND
        case 0x65: try append(popMark())  // APPENDS
        default:
            throw fail(String(format: "pickle opcode 0x%02X at byte %d is not allowed in a checkpoint (only dicts, lists, tuples, strings, numbers and tensors are read)", code, at - 1))
        }
    }

    // MARK: Reading bytes

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - at else { throw fail("the pickle ends in the middle of an instruction (truncated?)") }
        defer { at += n }
        return bytes[at..<(at + n)]
    }

    private mutating func byte() throws -> UInt8 { try take(1).first ?? 0 }

    private mutating func little(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func big(_ n: Int) throws -> UInt64 { try take(n).reduce(0) { $0 << 8 | UInt64($1) } }

    private func length(_ n: UInt64) throws -> Int {
        guard n <= UInt64(bytes.count) else { throw fail("a string longer than the file") }
        return Int(n)
    }

    /// LONG1: a little-endian two's-complement integer of at most 8 bytes.
    private mutating func long1() throws -> Int {
        let n = Int(try byte())
        guard n <= 8 else { throw fail("an integer of \(n) bytes, too large for a checkpoint") }
        guard n > 0 else { return 0 }
        let raw = try little(n)
        let shift = UInt64(64 - 8 * n)
        return Int(Int64(bitPattern: raw << shift) >> Int64(shift))
    }

    private mutating func text(_ n: Int) throws -> String {
        guard let s = String(validating: try take(n), as: UTF8.self) else { throw fail("a string that is not UTF-8") }
        return s
    }

    /// A newline-terminated ASCII name (GLOBAL's operands), at most 256 bytes.
    private mutating func line() throws -> String {
        guard let end = bytes[at..<min(bytes.count, at + 257)].firstIndex(of: 0x0A) else { throw fail("a GLOBAL name without its end") }
        let raw = try take(end - at)
        at += 1
        guard let s = String(validating: raw, as: UTF8.self) else { throw fail("a GLOBAL name that is not UTF-8") }
        return s
    }

    // MARK: Stack and memo

    private mutating func pop(_ n: Int) throws -> [PickleValue] {
        guard stack.count - n >= (marks.last ?? 0) else { throw fail("an instruction finds too few values on the stack") }
        defer { stack.removeLast(n) }
        return Array(stack.suffix(n))
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("an instruction needs a MARK that is not there") }
        defer { stack.removeSubrange(mark...) }
        return Array(stack[mark...])
    }

    private mutating func put(_ index: UInt64) throws {
        guard let top = stack.last, stack.count > (marks.last ?? 0) else { throw fail("a memo store with an empty stack") }
        memo[index] = top
    }

    private mutating func get(_ index: UInt64) throws {
        guard let value = memo[index] else { throw fail("a memo fetch of an entry never stored") }
        stack.append(value)
    }

    /// Marks a container as placed inside another (so it can no longer change) and returns its
    /// depth; `parent` may not be the container itself.
    private func adopt(_ value: PickleValue, into parent: AnyObject? = nil) throws -> Int {
        switch value {
        case let .list(l):
            if l === parent { throw fail("a list that contains itself") }
            l.frozen = true
        case let .dict(d):
            if d === parent { throw fail("a dict that contains itself") }
            d.frozen = true
        default: break
        }
        guard value.depth < Self.maxDepth else { throw fail("containers nested more than \(Self.maxDepth) deep") }
        return value.depth
    }

    private func tuple(_ items: [PickleValue]) throws -> PickleValue {
        let depth = try items.map { try adopt($0) }.max() ?? 0
        return .tuple(PickleTuple(items: items, depth: depth + 1))
    }

    // MARK: Containers

    private mutating func setItems(_ items: [PickleValue]) throws {
        guard items.count % 2 == 0, case let .dict(target)? = stack.last, stack.count > (marks.last ?? 0) else {
            throw fail("SETITEM(S) without a dict to fill")
        }
        guard !target.frozen else { throw fail("a dict changed after it was placed in another container") }
        for i in stride(from: 0, to: items.count, by: 2) {
            guard case let .string(key) = items[i] else { throw fail("a dict key that is \(items[i].kind), not a string") }
            let depth = try adopt(items[i + 1], into: target)
            guard target.insert(key, items[i + 1]) else { throw fail("the key '\(TorchFileError.clip(key))' appears twice in one dict") }
            target.depth = max(target.depth, depth + 1)
        }
    }

    private mutating func append(_ items: [PickleValue]) throws {
        guard case let .list(target)? = stack.last, stack.count > (marks.last ?? 0) else { throw fail("APPEND(S) without a list to fill") }
        guard !target.frozen else { throw fail("a list changed after it was placed in another container") }
        for item in items {
            target.depth = max(target.depth, try adopt(item, into: target) + 1)
            target.items.append(item)
        }
    }

    // MARK: Globals, storages, calls

    private mutating func global(_ module: String, _ name: String) throws {
        guard let g = PickleGlobal(module: module, name: name) else {
            throw fail("it names the Python object '\(TorchFileError.clip(module)).\(TorchFileError.clip(name))', which dinoprobe never loads or calls (allowed: \(PickleGlobal.allowed))")
        }
        stack.append(.global(g))
    }

    /// BINPERSID: ('storage', storage type, key, location, element count) names a storage.
    private mutating func persistentID() throws {
        guard case let .tuple(id) = try pop(1)[0], id.items.count == 5,
              case .string("storage") = id.items[0], case let .global(.storageType(dtype)) = id.items[1],
              case let .string(key) = id.items[2], case .string = id.items[3], case let .int(count) = id.items[4] else {
            throw fail("a persistent id that is not ('storage', FloatStorage/HalfStorage/BFloat16Storage, key, location, size)")
        }
        guard (1...64).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }) else {
            throw fail("a storage key '\(TorchFileError.clip(key))' that is not a short plain name")
        }
        guard count >= 0 else { throw fail("storage '\(key)' has a negative size") }
        let reference = StorageReference(key: key, dtype: dtype, count: count)
        if let earlier = storages[key], earlier != reference {
            throw fail("storage '\(key)' is named with two different types or sizes")
        }
        storages[key] = reference
        stack.append(.storage(reference))
    }

    private mutating func reduce() throws {
        let both = try pop(2)
        guard case let .global(callable) = both[0], case let .tuple(args) = both[1] else {
            throw fail("REDUCE on \(both[0].kind), which is not an allowed callable")
        }
        let a = args.items
        switch callable {
        case .orderedDict:
            guard a.isEmpty else { throw fail("OrderedDict is called with arguments") }
            stack.append(.dict(PickleDict()))
        case .rebuildTensor:
            stack.append(.tensor(try rebuildTensor(a)))
        case .rebuildParameter:
            guard a.count == 3, case let .tensor(t) = a[0], case .bool = a[1], emptyHooks(a[2]) else {
                throw fail("_rebuild_parameter with arguments other than (tensor, requires_grad, no hooks)")
            }
            stack.append(.tensor(t))
        case .storageType:
            throw fail("REDUCE on \(callable.name): only OrderedDict and the tensor rebuilders may be called")
        }
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    private func rebuildTensor(_ a: [PickleValue]) throws -> TensorRecord {
        guard a.count == 6 || a.count == 7, case let .storage(storage) = a[0], case let .int(offset) = a[1],
              case let .tuple(size) = a[2], case let .tuple(stride) = a[3], case .bool = a[4], emptyHooks(a[5]) else {
            throw fail("_rebuild_tensor_v2 with arguments other than (storage, offset, size, stride, requires_grad, no hooks)")
        }
        func ints(_ t: PickleTuple) throws -> [Int] {
            try t.items.map { item in
                guard case let .int(v) = item, v >= 0 else { throw fail("a tensor size or stride that is not a non-negative int") }
                return v
            }
        }
        let shape = try ints(size), strides = try ints(stride)
        guard shape.count == strides.count, shape.count <= Self.maxRank, offset >= 0 else {
            throw fail("a tensor whose size and stride disagree, with more than \(Self.maxRank) dimensions, or with a negative offset")
        }
        return TensorRecord(storage: storage, offset: offset, shape: shape, stride: strides)
    }

    private func emptyHooks(_ value: PickleValue) -> Bool {
        if case let .dict(d) = value { return d.keys.isEmpty }
        return false
    }

    /// BUILD: only an OrderedDict's attributes (a state dict's `_metadata`), which are ignored.
    private mutating func build() throws {
        let state = try pop(1)[0]
        guard case let .dict(target)? = stack.last, !target.frozen else { throw fail("BUILD on something other than a dict") }
        switch state {
        case .none: break
        case .dict: _ = try adopt(state, into: target)
        default: throw fail("BUILD with \(state.kind) as state")
        }
    }
}
