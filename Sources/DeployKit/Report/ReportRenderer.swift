import Foundation
import Mustache

/// Report → text in one of four formats. Pure: same report, same bytes.
public enum ReportRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case md, json, html, junit

        public var fileExtension: String { self == .junit ? "junit.xml" : rawValue }
    }

    public static func render(_ report: Report, as format: Format) -> String {
        switch format {
        case .json: return (try? JSONOutput.encode(report)) ?? "{}\n"
        case .md: return render(Self.markdown, report)
        case .html: return render(Self.html, report)
        case .junit: return render(Self.junit, report)
        }
    }

    private static func render(_ template: ChunkedTemplate, _ report: Report) -> String {
        template.library.render(ReportView.context(report), withTemplate: template.name) ?? ""
    }

    // The templates are constants of this binary: a parse error is a programming error, and the
    // golden-file tests render every one of them.
    private static let markdown = template(.md)
    private static let html = template(.html)
    private static let junit = template(.junit)

    /// A format's template, parsed in chunks of at least `chunkSize` bytes (`ChunkedTemplate`).
    static func template(_ format: Format, chunkSize: Int = ChunkedTemplate.chunkSize) -> ChunkedTemplate {
        guard format == .md else { return ChunkedTemplate(source(format), named: format.rawValue, chunkSize: chunkSize) }
        MustacheContentTypes.register(MarkdownCell(), named: "MARKDOWN")
        return ChunkedTemplate(source(.md), named: "md", everyChunkStarts: "{{% CONTENT_TYPE: MARKDOWN}}\n", chunkSize: chunkSize)
    }

    /// The Mustache text of a format's template (none for JSON).
    static func source(_ format: Format) -> String {
        switch format {
        case .json: return ""
        case .md: return ReportTemplates.markdown
        case .html: return "{{% CONTENT_TYPE: HTML}}" + ReportTemplates.html
        case .junit: return "{{% CONTENT_TYPE: HTML}}" + ReportTemplates.junit
        }
    }
}

/// `{{value}}` in the Markdown report: one table-cell-safe line; `<` and `&` escaped so
/// command output never turns into HTML in a viewer that renders it.
struct MarkdownCell: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "|": out += "\\|"
            case "\n", "\r\n": out += " "
            case "<": out += "&lt;"
            case "&": out += "&amp;"
            default: out.append(ch)
            }
        }
        return out
    }
}
