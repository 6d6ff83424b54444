import Foundation

/// Shared pieces of the report's SVG charts: escaping, axis ticks, the series palette and the
/// sequential colour scale.
///
/// Charts are plain SVG 1.1 text with no script, no external font and no external reference,
/// so they render the same inline in `report.html`, opened from disk, or on their own.
public enum SVGChart {
    /// `text` escaped for XML character data and attribute values.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A coordinate with two decimals (short, stable output).
    static func coordinate(_ value: Double) -> String { String(format: "%.2f", value) }

    /// About `count` evenly spaced "nice" values (1, 2, 2.5 or 5 times a power of ten, and at
    /// least `minimumStep` apart) covering `low...high`; each is an integer multiple of the step.
    /// - Returns: the tick values, ascending; one value when the range is empty.
    public static func ticks(_ low: Double, _ high: Double, count: Int = 5, minimumStep: Double = 0) -> [Double] {
        guard low.isFinite, high.isFinite else { return [] }
        if high <= low { return [low] }
        let raw = max((high - low) / Double(max(1, count)), minimumStep)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw * (1 - 1e-12) } ?? 10 * magnitude
        let first = (low / step - 1e-9).rounded(.up)
        let last = (high / step + 1e-9).rounded(.down)
        // A range narrower than the precision of its values (two floats one ulp apart) has no
        // ticks between its ends: give the ends.
        guard step.isNormal, first.magnitude < 1e15, last.magnitude < 1e15, last >= first, last - first <= 1_000 else {
            return [low, high]
        }
        return (0...Int(last - first)).map { index in
            let multiple = first + Double(index)
            return multiple == 0 ? 0 : multiple * step
        }
    }

    /// A tick label: as few decimals as the step needs.
    static func tickLabel(_ value: Double, step: Double) -> String {
        var decimals = 0
        while decimals < 6, abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 {
            decimals += 1
        }
        return String(format: "%.\(decimals)f", value)
    }

    /// The series colours (Tableau 10, then two more), repeating after 12.
    public static let palette = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
        "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f3a93", "#8cd17d",
    ]

    /// Colour `index` of ``palette``.
    public static func color(_ index: Int) -> String { palette[index % palette.count] }

    /// Stops of the sequential scale (dark blue-violet to yellow, viridis-like), as RGB.
    private static let stops: [(Double, Double, Double)] = [
        (68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37),
    ]

    /// The sequential colour of `t` in [0, 1] (clamped) as `#rrggbb`.
    public static func sequential(_ t: Double) -> String {
        let (r, g, b) = sequentialRGB(t)
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    static func sequentialRGB(_ t: Double) -> (Double, Double, Double) {
        let clamped = t.isFinite ? min(1, max(0, t)) : 0
        let position = clamped * Double(stops.count - 1)
        let lower = min(stops.count - 2, Int(position))
        let fraction = position - Double(lower)
        let (a, b) = (stops[lower], stops[lower + 1])
        return (a.0 + (b.0 - a.0) * fraction, a.1 + (b.1 - a.1) * fraction, a.2 + (b.2 - a.2) * fraction)
    }

    /// Black or white, whichever reads better on the sequential colour of `t`.
    static func textColor(onSequential t: Double) -> String {
        let (r, g, b) = sequentialRGB(t)
        return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? "#000000" : "#ffffff"
    }

    /// The opening `<svg>` tag, a `<title>` for screen readers and a white background.
    static func open(id: String, width: Double, height: Double, title: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" id="\(escape(id))" class="chart" role="img" \
        width="\(coordinate(width))" height="\(coordinate(height))" viewBox="0 0 \(coordinate(width)) \(coordinate(height))" \
        font-family="DejaVu Sans, Arial, Helvetica, sans-serif" font-size="12">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="\(coordinate(width))" height="\(coordinate(height))" fill="#ffffff"/>

        """
    }

    /// A text element.
    static func text(
        _ content: String, x: Double, y: Double, anchor: String = "start", size: Double? = nil, weight: String? = nil,
        fill: String = "#222222", rotate: Double? = nil, baseline: String? = nil
    ) -> String {
        var attributes = "x=\"\(coordinate(x))\" y=\"\(coordinate(y))\" text-anchor=\"\(anchor)\" fill=\"\(fill)\""
        if let size { attributes += " font-size=\"\(coordinate(size))\"" }
        if let weight { attributes += " font-weight=\"\(weight)\"" }
        if let baseline { attributes += " dominant-baseline=\"\(baseline)\"" }
        if let rotate { attributes += " transform=\"rotate(\(coordinate(rotate)) \(coordinate(x)) \(coordinate(y)))\"" }
        return "<text \(attributes)>\(escape(content))</text>\n"
    }

    /// `text` cut to `limit` characters with an ellipsis.
    static func truncated(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
    }
}
