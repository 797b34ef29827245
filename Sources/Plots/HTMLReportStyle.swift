/// The inline style sheet of `HTMLReport` pages.
enum HTMLReportStyle {
    static let css = """
    body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #212529; }
    .headline { font-size: 2.2em; font-weight: 700; margin: 0.2em 0 0; } .headline-detail { color: #555; margin-top: 0.2em; }
    details { margin-top: 2em; } summary { cursor: pointer; font-weight: 600; }
    h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
    table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
    th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
    thead th { background: #f1f3f5; } table.kv th { background: #f8f9fa; font-weight: 600; }
    td { font-variant-numeric: tabular-nums; } tr.highlight td { background: #fff3bf; font-weight: 600; }
    figure { margin: 1em 0; } figcaption { font-size: 0.85em; color: #555; margin-top: 0.3em; overflow-wrap: anywhere; }
    img { max-width: 100%; height: auto; display: block; }
    .gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 0.8em; }
    .gallery figure { margin: 0; padding: 4px; border: 3px solid #ddd; border-radius: 4px; }
    .gallery figure.correct { border-color: #2f9e44; } .gallery figure.wrong { border-color: #e03131; }
    """
}
