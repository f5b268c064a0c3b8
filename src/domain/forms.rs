//! The printable forms of a dossier and their numbers under its rule regime: Thông tư
//! 01/2018/TT-VPCP for dossiers received under Nghị định 61/2018, Thông tư 03/2025/TT-VPCP
//! for those under Nghị định 118/2025. The two circulars number the forms alike up to 04;
//! TT 03/2025 adds the stop notice as 05 and moves the processing-control slip to 06 (and
//! the register to 07). That numbering and the new titles come from a secondary source (the
//! rules digest, S31): UNCONFIRMED against the circular's text — `docs/forms.md` says so.

/// The rule regime a dossier was received under (`dossier.rule_regime`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regime {
    Nd61_2018,
    Nd118_2025,
}

impl Regime {
    /// An unknown stored value reads as the current regime.
    pub fn parse(s: &str) -> Regime {
        match s {
            "nd61_2018" => Regime::Nd61_2018,
            _ => Regime::Nd118_2025,
        }
    }

    /// The circular whose forms the regime prints.
    pub fn circular(self) -> &'static str {
        match self {
            Regime::Nd61_2018 => "Thông tư số 01/2018/TT-VPCP",
            Regime::Nd118_2025 => "Thông tư số 03/2025/TT-VPCP",
        }
    }
}

/// What a form records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// Giấy tiếp nhận hồ sơ và hẹn trả kết quả.
    Receipt,
    /// Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ.
    Supplement,
    /// Phiếu từ chối tiếp nhận / giải quyết hồ sơ.
    Refusal,
    /// Phiếu xin lỗi và hẹn lại ngày trả kết quả.
    Apology,
    /// Thông báo dừng giải quyết hồ sơ (TT 03/2025 only).
    StopNotice,
    /// Phiếu kiểm soát quá trình giải quyết hồ sơ.
    ControlSlip,
}

impl Form {
    pub const ALL: [Form; 6] = [
        Form::Receipt,
        Form::Supplement,
        Form::Refusal,
        Form::Apology,
        Form::StopNotice,
        Form::ControlSlip,
    ];

    /// The form's number under `regime` ("01" …), `None` when the regime has no such form.
    pub fn number(self, regime: Regime) -> Option<&'static str> {
        Some(match (self, regime) {
            (Form::Receipt, _) => "01",
            (Form::Supplement, _) => "02",
            (Form::Refusal, _) => "03",
            (Form::Apology, _) => "04",
            (Form::StopNotice, Regime::Nd61_2018) => return None,
            (Form::StopNotice, Regime::Nd118_2025) => "05",
            (Form::ControlSlip, Regime::Nd61_2018) => "05",
            (Form::ControlSlip, Regime::Nd118_2025) => "06",
        })
    }

    /// The form numbered `number` under `regime`.
    pub fn numbered(regime: Regime, number: &str) -> Option<Form> {
        Form::ALL
            .into_iter()
            .find(|f| f.number(regime) == Some(number))
    }

    /// The document's name, as printed in its title and its QR code.
    pub fn title(self, regime: Regime) -> &'static str {
        match (self, regime) {
            (Form::Receipt, _) => "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
            (Form::Supplement, _) => "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
            (Form::Refusal, _) => "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
            (Form::Apology, Regime::Nd61_2018) => "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
            (Form::Apology, Regime::Nd118_2025) => {
                "Văn bản xin lỗi và đề nghị gia hạn thời gian giải quyết"
            }
            (Form::StopNotice, _) => "Thông báo dừng giải quyết hồ sơ",
            (Form::ControlSlip, _) => "Phiếu kiểm soát quá trình giải quyết hồ sơ",
        }
    }

    /// The template that renders it.
    pub fn template(self) -> &'static str {
        match self {
            Form::Receipt => "receipt.html",
            Form::Supplement => "supplement.html",
            Form::Refusal => "refusal.html",
            Form::Apology => "apology.html",
            Form::StopNotice => "stop.html",
            Form::ControlSlip => "control.html",
        }
    }
}

/// "Mẫu số 05" of the regime's circular, as forms print under their header.
pub fn form_label(form: Form, regime: Regime) -> String {
    format!(
        "Mẫu số {} — {}",
        form.number(regime).unwrap_or("—"),
        regime.circular()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regimes_number_the_stop_notice_and_the_control_slip_differently() {
        let old = Regime::parse("nd61_2018");
        let new = Regime::parse("nd118_2025");
        assert_eq!(Form::numbered(old, "05"), Some(Form::ControlSlip));
        assert_eq!(Form::numbered(old, "06"), None);
        assert_eq!(Form::numbered(new, "05"), Some(Form::StopNotice));
        assert_eq!(Form::numbered(new, "06"), Some(Form::ControlSlip));
        assert_eq!(Form::StopNotice.number(old), None);
        for regime in [old, new] {
            assert_eq!(Form::numbered(regime, "01"), Some(Form::Receipt));
            assert_eq!(Form::numbered(regime, "04"), Some(Form::Apology));
            assert_eq!(Form::numbered(regime, "07"), None);
            for f in Form::ALL {
                if let Some(n) = f.number(regime) {
                    assert_eq!(Form::numbered(regime, n), Some(f), "{f:?} {regime:?}");
                }
            }
        }
        assert_ne!(Form::Apology.title(old), Form::Apology.title(new));
        assert_eq!(
            form_label(Form::ControlSlip, new),
            "Mẫu số 06 — Thông tư số 03/2025/TT-VPCP"
        );
    }
}
