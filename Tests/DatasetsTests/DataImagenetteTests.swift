import Foundation
import Support
import Datasets
import XCTest

/// Imagenette: variants, class names, where copies are looked for, the ready marker, and the
/// noisy-label CSV.
final class DataImagenetteTests: DataTempFolderCase {
    func testVariantsAndClasses() {
        XCTAssertEqual(Imagenette.Variant.allCases.map(\.stem), ["imagenette2", "imagenette2-320", "imagenette2-160"])
        XCTAssertEqual(Imagenette.Variant.px320.url()?.absoluteString, "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-320.tgz")
        XCTAssertEqual(Imagenette.Variant.full.md5, "fe2fc210e6bb7c5664d602c3cd71e612")
        XCTAssertEqual(Imagenette.Variant.px320.md5, "3df6f0d01a2c9592104656642f5e78a3")
        XCTAssertEqual(Imagenette.Variant.px160.md5, "e793b78cc4c9e9a4ccc0c1155377a412")
        XCTAssertEqual(Imagenette.Variant.px160.url(baseURL: "http://127.0.0.1:8/x")?.absoluteString, "http://127.0.0.1:8/x/imagenette2-160.tgz")
        XCTAssertEqual(Imagenette.Variant(argument: "160"), .px160)
        XCTAssertEqual(Imagenette.Variant(argument: "FULL"), .full)
        XCTAssertNil(Imagenette.Variant(argument: "640"))
        XCTAssertEqual(Imagenette.wnids, Imagenette.wnids.sorted())
        XCTAssertEqual(Imagenette.wnids.count, 10)
        XCTAssertEqual(Imagenette.displayNames["n02979186"], "cassette player")
        XCTAssertEqual(Imagenette.displayNames["n03888257"], "parachute")
        XCTAssertEqual(Imagenette.baseURL(environment: [:]), Imagenette.defaultBaseURL)
        XCTAssertEqual(Imagenette.baseURL(environment: ["DINOPROBE_IMAGENETTE_URL": "http://127.0.0.1:9/"]), "http://127.0.0.1:9/")
    }

    /// A ready (or unfinished) mini copy of imagenette2-320 inside `folder`.
    func makeCopy(in folder: String, ready: Bool = true) throws {
        try write("\(folder)/imagenette2-320/train/n01440764/a.JPEG")
        try write("\(folder)/imagenette2-320/val/n01440764/b.JPEG")
        if ready { try write("\(folder)/imagenette2-320/.dinoprobe-ready", "ok") }
    }

    func testLocateOrderAndReadyMarker() throws {
        let env = ["DINOPROBE_DATA": temp + "/env", "XDG_CACHE_HOME": temp + "/xdg", "HOME": temp + "/home"]
        let base = temp + "/repo"
        XCTAssertEqual(Imagenette.searchFolders(dataDir: temp + "/explicit", environment: env, base: base),
                       [temp + "/explicit", temp + "/env", temp + "/repo/datasets", temp + "/xdg/dinoprobe/datasets"])
        func locate() throws -> String { try Imagenette.locate(variant: .px320, dataDir: temp + "/explicit", environment: env, base: base) }

        for folder in ["explicit", "env", "repo/datasets", "xdg/dinoprobe/datasets"] { try makeCopy(in: folder) }
        XCTAssertEqual(try locate(), temp + "/explicit/imagenette2-320")
        try FileManager.default.removeItem(atPath: temp + "/explicit/imagenette2-320/.dinoprobe-ready")
        XCTAssertEqual(try locate(), temp + "/env/imagenette2-320", "a copy without the marker does not count")
        try FileManager.default.removeItem(atPath: temp + "/env/imagenette2-320")
        XCTAssertEqual(try locate(), temp + "/repo/datasets/imagenette2-320")
        try FileManager.default.removeItem(atPath: temp + "/repo/datasets/imagenette2-320/.dinoprobe-ready")
        XCTAssertEqual(try locate(), temp + "/xdg/dinoprobe/datasets/imagenette2-320")
        try FileManager.default.removeItem(atPath: temp + "/xdg/dinoprobe/datasets/imagenette2-320/.dinoprobe-ready")

        assertThrows(try locate(), ["data set imagenette2-320 not found", temp + "/explicit/imagenette2-320 (present but has no .dinoprobe-ready",
                                    temp + "/env/imagenette2-320", temp + "/xdg/dinoprobe/datasets/imagenette2-320",
                                    "3df6f0d01a2c9592104656642f5e78a3"])
        // --data-dir may name the data set folder itself.
        try write("explicit/imagenette2-320/.dinoprobe-ready", "ok")
        XCTAssertEqual(try Imagenette.locate(variant: .px320, dataDir: temp + "/explicit/imagenette2-320", environment: env, base: base),
                       temp + "/explicit/imagenette2-320")
        // Without XDG_CACHE_HOME the cache is under HOME.
        XCTAssertEqual(CacheFolders.datasets(["HOME": temp + "/home"]), temp + "/home/.cache/dinoprobe/datasets")
        XCTAssertEqual(Imagenette.defaultDownloadFolder(environment: env), temp + "/env")
        XCTAssertEqual(Imagenette.defaultDownloadFolder(environment: ["XDG_CACHE_HOME": temp + "/xdg"]), temp + "/xdg/dinoprobe/datasets")
    }

    /// A mini Imagenette with 3 classes, 4 train and 2 val images, and its noisy-label CSV.
    func makeNoisyCopy(rows: [String]? = nil) throws -> String {
        let root = "nette"
        let train = ["n01440764/n01440764_1.JPEG", "n01440764/n01440764_2.JPEG", "n02102040/n02102040_1.JPEG", "n02979186/n02979186_9036.JPEG"]
        for p in train { try write("\(root)/train/\(p)") }
        try write("\(root)/val/n01440764/ILSVRC2012_val_1.JPEG")
        try write("\(root)/val/n02979186/ILSVRC2012_val_2.JPEG")
        let header = "path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25,noisy_labels_50,is_valid"
        let body = rows ?? [
            "train/n01440764/n01440764_1.JPEG,n01440764,n01440764,n01440764,n02979186,n02979186,False",
            "train/n01440764/n01440764_2.JPEG,n01440764,n01440764,n01440764,n01440764,n02102040,False",
            "train/n02102040/n02102040_1.JPEG,n02102040,n02102040,n02102040,n02102040,n01440764,False",
            "train/n02979186/n02979186_9036.JPEG,n02979186,n02979186,n02979186,n02979186,n02979186,False",
            "val/n01440764/ILSVRC2012_val_1.JPEG,n01440764,n01440764,n01440764,n01440764,n01440764,True",
            "val/n02979186/ILSVRC2012_val_2.JPEG,n02979186,n02979186,n02979186,n02979186,n02979186,True",
        ]
        try write("\(root)/noisy_imagenette.csv", ([header] + body).joined(separator: "\r\n") + "\r\n")
        return temp + "/" + root
    }

    func testASourceIsImagenetteByNameOrElseAnImageFolder() throws {
        XCTAssertTrue(ClassificationSource(data: "ImageNette").isImagenette)
        try SyntheticData.makeClassificationFolder(root: temp + "/imagenette", classes: 2, perClass: 2, valPerClass: 1, size: 16, seed: 1)
        let source = ClassificationSource(data: temp + "/imagenette", download: false)
        XCTAssertFalse(source.isImagenette, "a folder named imagenette is a folder")
        let (train, val) = try source.load(reporter: SilentReporter())
        XCTAssertEqual([train.count, val.count], [4, 2])
    }

    func testNoisyRelabelsTrainOnly() throws {
        let root = try makeNoisyCopy()
        let clean = try Imagenette.load(root: root, split: .train)
        XCTAssertEqual(clean.classNames, ["tench", "English springer", "cassette player"])
        XCTAssertEqual(clean.labels, [0, 0, 1, 2])
        XCTAssertEqual(try Imagenette.load(root: root, split: .train, noisy: 0).labels, [0, 0, 1, 2])
        XCTAssertEqual(try Imagenette.load(root: root, split: .train, noisy: 25).labels, [2, 0, 1, 2])
        let noisy50 = try Imagenette.load(root: root, split: .train, noisy: 50)
        XCTAssertEqual(noisy50.labels, [2, 1, 0, 2])
        XCTAssertEqual(noisy50.paths, clean.paths)
        XCTAssertNotEqual(noisy50.listingFingerprint(), clean.listingFingerprint())
        XCTAssertEqual(try Imagenette.load(root: root, split: .val, noisy: 50).labels, [0, 2], "val keeps its true labels")
    }

    func testNoisyErrors() throws {
        var root = try makeNoisyCopy()
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 7), ["no Imagenette noisy labels at 7%"])
        try FileManager.default.removeItem(atPath: temp + "/nette")
        root = try makeNoisyCopy(rows: ["train/n01440764/n01440764_1.JPEG,n01440764,n01440764,n01440764,n01440764,n01440764,False"])
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 5), [root + "/noisy_imagenette.csv", "3 train image(s) are not listed"])
        try FileManager.default.removeItem(atPath: temp + "/nette")
        root = try makeNoisyCopy(rows: [
            "train/n01440764/n01440764_1.JPEG,n01440764,n01440764,n01440764,n01440764,n09999999,False",
            "train/n01440764/n01440764_2.JPEG,n01440764,n01440764,n01440764,n01440764",
        ])
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 50), ["line 3 has 5 fields"])
        try FileManager.default.removeItem(atPath: temp + "/nette")
        root = try makeNoisyCopy(rows: ["train/n01440764/n01440764_1.JPEG,n01440764,n01440764,n01440764,n01440764,n09999999,False"])
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 50), ["label 'n09999999'"])
        try FileManager.default.removeItem(atPath: root + "/noisy_imagenette.csv")
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 1), [root + "/noisy_imagenette.csv", "no such file"])
        try write("nette/noisy_imagenette.csv", "path,label\nx,y\n")
        assertThrows(try Imagenette.load(root: root, split: .train, noisy: 1), ["no 'path' and 'noisy_labels_1' columns"])
    }
}
