import ArgumentParser
import CommandLineKit
import Foundation
import Support
import Training

/// An option group whose options are the fields of a library settings type: each property is
/// named as the setting's coding key (a flag spelled otherwise says so with `name:` and in
/// `flags`) and defaults to `Settings()`'s value. `settings` decodes the parsed values over
/// those defaults: an option left nil, or a list left empty, keeps the default; a nested option
/// group is a nested settings value. `validate()` runs the library's checks, naming the flag.
protocol SettingsOptions: ParsableArguments {
    associatedtype Settings: TaskSettings
    /// Flags not spelled as their setting's key in kebab case: key -> flag name.
    static var flags: [String: String] { get }
}

extension SettingsOptions {
    static var flags: [String: String] { [:] }

    /// The settings these options give, unchecked.
    var settings: Settings {
        get throws { try Self.decode(OptionRecord.settingsValues(of: self)) }
    }

    func validate() throws { _ = try Self.checked(settings) }

    /// `settings` checked, the refusal naming the flag.
    static func checked(_ settings: Settings) throws -> Settings {
        do { return try settings.validated() } catch let error as SettingError {
            throw ValidationError(flag(error.setting) + " " + error.problem)
        }
    }

    /// The flag of a setting key (`batchSize` -> `--batch-size`; `a x b` names two).
    static func flag(_ setting: String) -> String {
        setting.components(separatedBy: " x ").map { "--" + (flags[$0] ?? OptionRecord.flagName($0)) }.joined(separator: " x ")
    }

    /// `Settings()` with `values` (keyed by coding key) in place of its defaults; NaN and
    /// infinities reach `validate()`, which refuses them by name.
    static func decode(_ values: JSONValue) throws -> Settings {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try decoder.decode(Settings.self, from: JSONEncoder().encode(merged(JSONValueEncoder.encode(Settings()), values)))
    }

    private static func merged(_ base: JSONValue, _ top: JSONValue) -> JSONValue {
        guard case let .object(baseMembers) = base, case let .object(topMembers) = top else { return top }
        let overriding = Dictionary(topMembers, uniquingKeysWith: { a, _ in a })
        let kept = baseMembers.map { key, value in (key, overriding[key].map { merged(value, $0) } ?? value) }
        return .object(kept + topMembers.filter { key, _ in !baseMembers.contains { $0.0 == key } })
    }
}
