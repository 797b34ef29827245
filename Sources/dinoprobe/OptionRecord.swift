import ArgumentParser
import CommandLineKit
import Support

/// An ArgumentParser property wrapper whose parsed value can be read without knowing its type.
protocol ParsedArgument {
    var parsedValue: Any { get }
}

extension Option: ParsedArgument { var parsedValue: Any { wrappedValue } }
extension Flag: ParsedArgument { var parsedValue: Any { wrappedValue } }
extension Argument: ParsedArgument { var parsedValue: Any { wrappedValue } }
extension OptionGroup: ParsedArgument { var parsedValue: Any { wrappedValue } }

/// The resolved value of every option of a parsed command, defaults included, keyed by the
/// flag's name (`extract-batch-size`), for run records. Option groups are flattened; hidden
/// deprecated spellings are left out (their values reach the current names).
enum OptionRecord {
    static func values(of command: ParsableArguments, resolved overrides: [String: Any] = [:]) -> JSONValue {
        var values: [String: Any] = [:]
        collect(command, into: &values)
        for (name, value) in overrides { values[name] = value }
        return JSONValue(describing: values)
    }

    /// Flattens groups; the options of a settings group under their flags' names.
    private static func collect(_ arguments: Any, flags: [String: String] = [:], into values: inout [String: Any]) {
        for (name, value, isGroup) in parsed(arguments) where !name.hasPrefix("deprecated") {
            if isGroup {
                collect(value, flags: (value as? any SettingsOptions).map { type(of: $0).flags } ?? flags, into: &values)
            } else {
                values[flags[name] ?? flagName(name)] = plain(value)
            }
        }
    }

    /// The values of a settings group keyed by property name (its settings' coding keys), nested
    /// groups as objects; nil options and empty lists left out (they keep the defaults).
    static func settingsValues(of group: Any) -> JSONValue {
        var values: [(String, JSONValue)] = []
        for (name, value, isGroup) in parsed(group) {
            let plain = plain(value)
            if let list = plain as? [Any], list.isEmpty { continue }
            if case let mirror = Mirror(reflecting: plain), mirror.displayStyle == .optional, mirror.children.isEmpty { continue }
            values.append((name, isGroup ? settingsValues(of: value) : JSONValue(describing: plain)))
        }
        return .object(values)
    }

    /// Each parsed argument of `arguments`: its property name, value, and whether it is a group.
    private static func parsed(_ arguments: Any) -> [(String, Any, Bool)] {
        Mirror(reflecting: arguments).children.compactMap { child in
            guard let label = child.label, let argument = child.value as? ParsedArgument else { return nil }
            return (label.hasPrefix("_") ? String(label.dropFirst()) : label, argument.parsedValue, child.value is any ParsableArgumentsGroup)
        }
    }

    /// `extractBatchSize` -> `extract-batch-size`.
    static func flagName(_ property: String) -> String {
        var out = ""
        for ch in property {
            if ch.isUppercase { out += "-" + ch.lowercased() } else { out.append(ch) }
        }
        return out
    }

    /// Comma lists as their values.
    private static func plain(_ value: Any) -> Any {
        if let lists = value as? [any CommaListProtocol] { return lists.flatMap { $0.anyValues } }
        if let list = value as? any CommaListProtocol { return list.anyValues }
        return value
    }
}

/// Marks `OptionGroup` so the record can recurse into it.
private protocol ParsableArgumentsGroup {}
extension OptionGroup: ParsableArgumentsGroup {}
