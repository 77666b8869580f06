"""The dialog shown after an unhandled error: a calm message, and a report to copy."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

MESSAGE = (
    "Something went wrong. Hark kept running; your work is saved.\n"
    "If this keeps happening, please copy the report and send it to the developers."
)


class CrashDialog(QDialog):
    def __init__(self, report: str, parent: QWidget | None = None, *, log_dir: Path | None = None) -> None:
        """log_dir: the folder "Open log folder" shows; without it that button is disabled."""
        super().__init__(parent)
        self._report = report
        self._log_dir = log_dir
        self.setWindowTitle("Hark: unexpected error")

        icon = QLabel()
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        title = QLabel("Hark ran into a problem")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        message = QLabel(MESSAGE)
        message.setWordWrap(True)
        message.setMinimumWidth(500)  # wraps into two calm lines, not a narrow column
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        text_col = QVBoxLayout()
        text_col.addWidget(title)
        text_col.addWidget(message)
        head = QHBoxLayout()
        head.addWidget(icon)
        head.addLayout(text_col, 1)

        self.details_button = QToolButton()
        self.details_button.setText("&Details")
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setAutoRaise(True)
        self.details_button.setToolTip("Show or hide the technical report.")

        self.report_view = QPlainTextEdit(report)
        self.report_view.setReadOnly(True)
        self.report_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.report_view.setToolTip("The report: versions and where the error happened; nothing else is collected.")
        self.report_view.setMinimumHeight(220)
        self.report_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.report_view.hide()
        self.details_button.clicked.connect(lambda: self.set_details_visible(self.report_view.isHidden()))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy report")
        self.copy_button.setToolTip("Put the report on the clipboard, ready to paste into an e-mail or issue.")
        self.copy_button.clicked.connect(self.copy_report)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.open_log_button = QPushButton("&Open log folder")
        self.open_log_button.setToolTip("Open the folder with Hark's log files in the file manager.")
        self.open_log_button.setEnabled(log_dir is not None)
        self.open_log_button.clicked.connect(self.open_log_folder)
        buttons.addButton(self.open_log_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setToolTip("Close this message and carry on working.")
        self.close_button.setDefault(True)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.report_view, 1)
        layout.addWidget(buttons)
        self.setSizeGripEnabled(True)
        self.close_button.setFocus()

    def report(self) -> str:
        return self._report

    def set_details_visible(self, shown: bool) -> None:
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.report_view.setVisible(shown)
        if not shown:
            # Give the space back: the dialog shrinks to its message again.
            QTimer.singleShot(0, self, self._fit_height)
        else:
            self.resize(max(self.width(), 640), max(self.height(), self.sizeHint().height()))

    def _fit_height(self) -> None:
        lay = self.layout()
        assert lay is not None  # set in __init__
        h = lay.heightForWidth(self.width()) if lay.hasHeightForWidth() else -1
        self.resize(self.width(), h if h > 0 else self.minimumSizeHint().height())

    def copy_report(self) -> None:
        QGuiApplication.clipboard().setText(self._report)
        # The timer is tied to the dialog: closing it early cancels the reset.
        self.copy_button.setText("Copied")
        QTimer.singleShot(2000, self, lambda: self.copy_button.setText("&Copy report"))

    def open_log_folder(self) -> None:
        if self._log_dir is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._log_dir)))
