/// Counts derived from a fraction a user typed in decimal, such as `⌊βn⌋` for a trimmed mean's
/// `β = 0.29`: exact for the values people write, where plain floating point is not
/// (`0.29 × 100` is `28.999999999999996` in binary64, whose floor is 28, not 29).
///
/// The product `x·n` is computed in `Double`; when it lies within `1e-9` (relative, at least
/// `1e-9` absolute) of an integer it is taken to be that integer, and only then rounded down (or
/// up). A decimal fraction with up to ~6 significant digits times any `n` below ~10⁶ is at least
/// `1e-6` from the next integer whenever it is not one, so the tolerance never moves a product
/// that is honestly fractional, while the representation error of a decimal literal (at most
/// one unit in the last place, ~`1.1e-16` relative) is always far inside it.
public enum FractionalCount {
    /// The relative distance to an integer below which a product counts as that integer.
    public static let tolerance = 1e-9

    /// `⌊fraction · n⌋`, exact for decimal fractions.
    /// - Parameters:
    ///   - fraction: a finite fraction (β, c, a rate, a level).
    ///   - n: the count it applies to.
    /// - Returns: the floor of the exact decimal product.
    public static func floor(_ fraction: Double, of n: Int) -> Int {
        let product = fraction * Double(n)
        if let integer = nearbyInteger(product) { return integer }
        return Int(product.rounded(.down))
    }

    /// `⌈fraction · n⌉`, exact for decimal fractions.
    /// - Parameters:
    ///   - fraction: a finite fraction.
    ///   - n: the count it applies to.
    /// - Returns: the ceiling of the exact decimal product.
    public static func ceiling(_ fraction: Double, of n: Int) -> Int {
        let product = fraction * Double(n)
        if let integer = nearbyInteger(product) { return integer }
        return Int(product.rounded(.up))
    }

    private static func nearbyInteger(_ product: Double) -> Int? {
        let nearest = product.rounded()
        guard abs(product - nearest) <= tolerance * max(1, abs(product)) else { return nil }
        return Int(nearest)
    }
}
