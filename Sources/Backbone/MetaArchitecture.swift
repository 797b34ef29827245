/// The DINOv3 ViTs Meta released as `.pth` files (dinov3/hub/backbones.py), by the names in
/// their file names (`dinov3_vits16_pretrain_lvd1689m-08c60483.pth`): what a state dict's shapes
/// cannot tell (the number of heads when the RoPE periods are absent) comes from here.
public enum MetaArchitecture: String, Sendable, CaseIterable {
    case vits16, vits16plus, vitb16, vitl16, vitl16plus, vith16plus, vit7b16

    /// Width, depth, heads, MLP width and whether the MLP is gated (SwiGLU).
    var shape: (width: Int, depth: Int, heads: Int, mlp: Int, gated: Bool) {
        switch self {
        case .vits16: return (384, 12, 6, 1536, false)
        case .vits16plus: return (384, 12, 6, 1536, true)
        case .vitb16: return (768, 12, 12, 3072, false)
        case .vitl16: return (1024, 24, 16, 4096, false)
        case .vitl16plus: return (1024, 24, 16, 4096, true)
        case .vith16plus: return (1280, 32, 20, 5120, true)
        case .vit7b16: return (4096, 40, 32, 8192, true)
        }
    }

    /// The architecture named in a Meta file name (`dinov3_<arch>_…`), if any.
    public init?(fileName: String) {
        let parts = fileName.lowercased().split(separator: "_")
        guard parts.count >= 2, parts[0] == "dinov3", let arch = MetaArchitecture(rawValue: String(parts[1])) else { return nil }
        self = arch
    }
}
