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

    private static func render(_ template: MustacheTemplate, _ report: Report) -> String {
        template.render(ReportView.context(report))
    }

    // The templates are constants of this binary: a parse error is a programming error, and the
    // golden-file tests render every one of them.
    private static let markdown: MustacheTemplate = {
        MustacheContentTypes.register(MarkdownCell(), named: "MARKDOWN")
        return try! MustacheTemplate(string: ReportTemplates.markdown)
    }()
    private static let html = try! MustacheTemplate(string: "{{% CONTENT_TYPE: HTML}}" + ReportTemplates.html)
    private static let junit = try! MustacheTemplate(string: "{{% CONTENT_TYPE: HTML}}" + ReportTemplates.junit)
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
