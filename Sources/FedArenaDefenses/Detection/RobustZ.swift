import FedArenaNumerics
import Foundation

/// Robust standardisation across the clients of one round, shared by the detectors and the
/// fusion: `z_i = (x_i − median(x)) / max(1.4826 · MAD(x), minimumScale)`, where `MAD` is the
/// median absolute deviation (1.4826 makes it a consistent estimate of the standard deviation
/// for normal data; Rousseeuw and Croux 1993). A majority of honest clients fixes the median
/// and the MAD, so up to half of the values may be outliers without moving them.
///
/// `minimumScale` keeps a round whose honest values are all equal (MAD 0) from turning a tiny
/// difference into an enormous `z`; each detector documents the floor it uses.
public enum RobustZ {
    /// The median of the values that are numbers (``Selection/median(_:)``); 0 when there are none.
    public static func median(_ values: [Double]) -> Double {
        Selection.median(values) ?? 0
    }

    /// The location (median) and scale (`max(1.4826 · MAD, minimumScale)`) of `values`.
    public static func location(_ values: [Double], minimumScale: Double) -> (median: Double, scale: Double) {
        let center = median(values)
        let mad = median(values.map { abs($0 - center) })
        return (center, max(1.4826 * mad, minimumScale, .leastNormalMagnitude))
    }

    /// The robust z-scores of `values` (NaN stays NaN).
    public static func scores(_ values: [Double], minimumScale: Double) -> [Double] {
        let (center, scale) = location(values, minimumScale: minimumScale)
        return values.map { ($0 - center) / scale }
    }

    /// Maps a z-score to [0, 1] with the logistic `1 / (1 + exp(−(z − center) / width))`:
    /// with the defaults, `z = 0 → 0.05`, `z = 3 → 0.5`, `z = 6 → 0.95`. NaN maps to 0.
    public static func suspicion(_ z: Double, center: Double = 3, width: Double = 1) -> Double {
        guard !z.isNaN else { return 0 }
        let value = 1 / (1 + exp(-(z - center) / width))
        return min(1, max(0, value))
    }
}

/// Small formatting helpers for reasons.
enum ReasonFormat {
    /// `value` with `digits` significant decimals.
    static func number(_ value: Double, _ digits: Int = 3) -> String {
        guard value.isFinite else { return "\(value)" }
        return String(format: "%.\(digits)g", value)
    }
}
