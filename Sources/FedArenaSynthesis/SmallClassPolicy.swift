/// What a class-conditional generator does with a class that has too few samples for the
/// requested number of components (common on non-IID client partitions).
public enum SmallClassPolicy: String, Sendable, Equatable, CaseIterable {
    /// Throw a `GeneratorError` naming the class and the counts.
    case fail
    /// Fit that class with as many components as its samples allow.
    case shrink
}
