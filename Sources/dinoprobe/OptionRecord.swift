import ArgumentParser
import CommandLineKit
import Foundation
import Support

/// An ArgumentParser property wrapper whose parsed value can be read without knowing its type.
private protocol ParsedArgument {
    var parsedValue: Any { get }
}

extension Option: ParsedArgument { fileprivate var parsedValue: Any { wrappedValue } }
extension Flag: ParsedArgument { fileprivate var parsedValue: Any { wrappedValue } }
extension Argument: ParsedArgument { fileprivate var parsedValue: Any { wrappedValue } }
extension OptionGroup: ParsedArgument { fileprivate var parsedValue: Any { wrappedValue } }

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

    private static func collect(_ arguments: Any, into values: inout [String: Any]) {
        for child in Mirror(reflecting: arguments).children {
            guard let label = child.label, let argument = child.value as? ParsedArgument else { continue }
            let name = label.hasPrefix("_") ? String(label.dropFirst()) : label
            guard !name.hasPrefix("deprecated") else { continue }
            if child.value is any ParsableArgumentsGroup {
                collect(argument.parsedValue, into: &values)
            } else {
                values[flagName(name)] = plain(argument.parsedValue)
            }
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
        return value
    }
}

/// Marks `OptionGroup` so the record can recurse into it.
private protocol ParsableArgumentsGroup {}
extension OptionGroup: ParsableArgumentsGroup {}
