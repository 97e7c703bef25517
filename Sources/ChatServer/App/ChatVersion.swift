/// The release this binary was built from.
public enum ChatVersion {
    public static let current = "0.1.0"
}
