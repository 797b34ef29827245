import Foundation
import Hub
import Support
import TestSupport
import XCTest

/// Refusals that the user can act on (gated access, a wrong id), where the token goes, and
/// offline mode.
final class HubAccessTests: HubTestCase {
    func test401WithoutATokenExplainsGatedAccess() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.status = 401; $0.errorCode = "GatedRepo" }
        assertHubError(try downloader().downloadModel("acme/tiny"),
                       ["refused acme/tiny (HTTP 401)", "gated or private", "no token was sent", "open \(hub.endpoint)/acme/tiny",
                        "request access", "huggingface-cli login", "HF_TOKEN"])
        XCTAssertEqual(tree(cache), [], "nothing written")
    }

    func test403WithATokenSaysTheTokenHasNoAccess() throws {
        try serve("gelu_reg4")
        hub.misbehave { $0.status = 403; $0.errorCode = "GatedRepo" }
        assertHubError(try downloader(["HF_TOKEN": "hf_abc"]).downloadModel("acme/tiny"),
                       ["(HTTP 403)", "the token was sent but gives no access", "request access"])
    }

    func testAWrongIDOrRevisionSays404() throws {
        try serve("gelu_reg4")
        assertHubError(try downloader().downloadModel("acme/tinny"), ["acme/tinny", "HTTP 404", "the model id or the revision is wrong"])
        assertHubError(try downloader().downloadModel("acme/tiny", revision: "v9"), ["acme/tiny has no revision 'v9'", "--revision"])
        XCTAssertEqual(tree(cache), [])
    }

    func testTheTokenGoesToTheHubOnlyNeverToTheStorageHost() throws {
        try serve("sharded")
        _ = try downloader(["HF_TOKEN": "hf_secret"]).downloadModel("acme/tiny")
        XCTAssertFalse(hub.resolveRequests.isEmpty)
        XCTAssertEqual(hub.resolveRequests.filter { $0.header("Authorization") != "Bearer hf_secret" }.map(\.line), [])
        XCTAssertEqual(hub.storageRequests.count, 5, "the shards come from the storage host")
        XCTAssertTrue(hub.storageRequests.allSatisfy { $0.header("Authorization") == nil })
    }

    func testARedirectFollowedOnTheGetDropsTheToken() throws {
        // A HEAD without a Location: the GET goes to the hub, which redirects to the storage host.
        try serve("gelu_reg4")
        hub.misbehave { $0.redirectOnGetOnly = true }
        _ = try downloader(["HF_TOKEN": "hf_secret"]).downloadModel("acme/tiny")
        let gets = hub.resolveRequests.filter { $0.method == "GET" && $0.target.hasSuffix("model.safetensors") }
        XCTAssertEqual(gets.count, 1)
        XCTAssertEqual(gets.first?.header("Authorization"), "Bearer hf_secret")
        XCTAssertEqual(hub.storageRequests.count, 1)
        XCTAssertNil(hub.storageRequests.first?.header("Authorization"))
    }

    func testTheLoginTokenFileIsUsedAndHF_TOKENWins() throws {
        try serve("gelu_reg4")
        let home = temp + "/hf-home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        try "hf_fromfile\n".write(toFile: home + "/token", atomically: true, encoding: .utf8)
        XCTAssertEqual(try HubSettings(environment: environment(["HF_HOME": home])).token, "hf_fromfile")
        XCTAssertEqual(try HubSettings(environment: environment(["HF_HOME": home, "HF_TOKEN": "hf_env"])).token, "hf_env")
        XCTAssertNil(try HubSettings(environment: environment()).token)
        _ = try downloader(["HF_HOME": home]).downloadModel("acme/tiny")
        XCTAssertTrue(hub.resolveRequests.allSatisfy { $0.header("Authorization") == "Bearer hf_fromfile" })
    }

    func testOfflineModeNeverTouchesTheNetwork() throws {
        try serve("gelu_reg4")
        for value in ["1", "true", "ON"] {
            let settings = try HubSettings(environment: environment(["HF_HUB_OFFLINE": value]))
            XCTAssertTrue(settings.offline)
            assertHubError(try HubDownloader(settings: settings).downloadModel("acme/tiny"), ["HF_HUB_OFFLINE is set", "acme/tiny is not downloaded"])
        }
        XCTAssertFalse(try HubSettings(environment: environment(["HF_HUB_OFFLINE": "0"])).offline)
        XCTAssertEqual(hub.requests.count, 0)
        XCTAssertEqual(tree(cache), [])
    }

    func testSettingsFromTheEnvironment() throws {
        let defaults = try HubSettings(environment: ["HOME": "/home/u"])
        XCTAssertEqual(defaults.endpoint.absoluteString, "https://huggingface.co")
        XCTAssertEqual(defaults.cacheRoot, "/home/u/.cache/huggingface/hub")
        XCTAssertEqual(try HubSettings(environment: ["HF_HOME": "/data/hf"]).cacheRoot, "/data/hf/hub")
        XCTAssertEqual(try HubSettings(environment: ["HF_ENDPOINT": "http://127.0.0.1:9/"]).endpoint.absoluteString, "http://127.0.0.1:9")
        for bad in ["ftp://x", "huggingface.co", "https://user:pw@host", "https://host/?q=1"] {
            XCTAssertThrowsError(try HubSettings(environment: ["HF_ENDPOINT": bad]), bad)
        }
        XCTAssertThrowsError(try HubSettings(environment: ["HF_TOKEN": "hf_a\r\nX-Evil: 1"])) { error in
            XCTAssertTrue("\(error)".contains("holds characters a token cannot have"), "\(error)")
        }
    }
}
