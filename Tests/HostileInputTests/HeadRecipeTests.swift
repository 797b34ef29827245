import Evaluation
import Foundation
import Heads
import Images
import TestSupport
import XCTest

/// A head file's feature recipe is held to the command line's bounds on load (one set of bounds,
/// `Preprocessing` and `FeatureRecipe`): a vanishing std, a NaN mean, a size of 0 or a million,
/// a patch size of 0 or an impossible block count are refused by name by classify and
/// eval-linear before any work (they gave NaN probabilities with exit 0, or trapped).
final class HeadRecipeTests: HostileTestCase {
    /// A classifier head for the tiny model's features (cls+avgpool, width 96) recording `recipe`.
    func head(_ name: String, recipe: String) throws -> String {
        let path = temp + "/\(name).safetensors"
        let metadata = HeadMetadata(kind: .classifier, featureRecipe: recipe, classNames: ["a", "b"])
        try LinearClassifier(dim: 96, classes: 2, metadata: metadata).save(to: path)
        return path
    }

    /// The key of the default recipe with `edit` applied to its preprocessing or blocks.
    static func key(_ edit: (inout FeatureRecipe) -> Void) -> String {
        var recipe = FeatureRecipe()
        edit(&recipe)
        return recipe.key
    }

    static let hostile: [(name: String, recipe: String, fragment: String)] = [
        ("tiny-std", key { $0.preprocessing.std = [1e-45, 0.2, 0.2] }, "std is"),
        ("nan-mean", "cls+avgpool|blocks=1|preset=hf|size=224|mean=nan,0.4,0.4", "mean is nan"),
        ("size-0", key { $0.preprocessing.size = 0 }, "size 0"),
        ("size-huge", key { $0.preprocessing.size = 1_048_576 }, "size 1048576"),
        ("patch-0", key { $0.preprocessing.patchSize = 0 }, "patch size 0"),
        ("blocks-negative", key { $0.blocks = -3 }, "blocks is -3"),
    ]

    func testHostileRecipesAreRefusedOnLoad() throws {
        for (name, recipe, fragment) in Self.hostile {
            let path = try head(name, recipe: recipe)
            assertRefused(try LinearClassifier.load(from: path), ["metadata 'feature_recipe' in \(path)", fragment])
        }
    }

    func testClassifyAndEvalLinearRefuseThemBeforeAnyWork() throws {
        let image = CLI.fixtureImages + "/rgb_small_40x30.png"
        for (name, recipe, fragment) in Self.hostile.prefix(2) {  // every recipe: testHostileRecipesAreRefusedOnLoad
            let path = try head(name, recipe: recipe), out = temp + "/out-\(name)"
            for arguments in [["classify", image], ["eval-linear", "--data", temp]] {
                let r = try CLI.run(arguments + ["--model", CLI.tinyModel, "--head", path, "--out", out])
                XCTAssertEqual(r.status, 1, "\(name): \(r.stdout)")
                XCTAssertTrue(r.stderr.contains("feature_recipe") && r.stderr.contains(fragment), "\(name): \(r.stderr)")
                XCTAssertFalse(r.stdout.contains("%"), "\(name): printed probabilities: \(r.stdout)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name): \(arguments[0]) made its output folder")
            }
        }
    }

    /// Probabilities that are not finite are never printed or saved: the predictions refuse them.
    func testNonFiniteProbabilitiesAreRefused() throws {
        assertRefused(try ClassificationPredictions(paths: ["a.png", "b.png"], probabilities: [0.5, 0.5, .nan, 1], labels: nil, classNames: ["x", "y"]),
                      ["b.png", "NaN"])
    }
}
