// "Print view": lay the flashcards out one side per page and open the browser's print dialog.
() => {
  const css = __PRINT_CSS__;
  const sheet = __PRINT_SHEET__;
  let style = document.getElementById("fc-print-css");
  if (!style) {
    style = document.createElement("style");
    style.id = "fc-print-css";
    document.head.appendChild(style);
  }
  style.textContent = css;
  let root = document.getElementById("fc-print-root");
  if (!root) {
    root = document.createElement("div");
    root.id = "fc-print-root";
    document.body.appendChild(root);
  }
  root.innerHTML = sheet;
  document.body.classList.add("fc-printing");
  const done = () => {
    document.body.classList.remove("fc-printing");
    style.remove();
    window.removeEventListener("afterprint", done);
  };
  window.addEventListener("afterprint", done);
  window.print();
}
