//! Windows only: the process's explicit AppUserModelID (`SetCurrentProcessExplicitAppUserModelID`).
//! Must run before the first window is created; never panics.

#![allow(unsafe_code)] // FFI to shell32/ole32; each call's safety is argued below.

use windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID;

/// `id` as a NUL-terminated UTF-16 string.
fn wide(id: &str) -> Vec<u16> {
    id.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Sets this process's AppUserModelID.
pub fn set_app_user_model_id(id: &str) -> std::io::Result<()> {
    let id = wide(id);
    // SAFETY: `id` is a valid NUL-terminated UTF-16 string that outlives the call; the shell
    // copies it.
    let hr = unsafe { SetCurrentProcessExplicitAppUserModelID(id.as_ptr()) };
    if hr < 0 {
        return Err(std::io::Error::from_raw_os_error(hr));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is the failure report
mod tests {
    //! Runs for real under Wine in CI (`scripts/cross`).

    use super::*;
    use windows_sys::Win32::System::Com::CoTaskMemFree;
    use windows_sys::Win32::UI::Shell::GetCurrentProcessExplicitAppUserModelID;

    /// `E_NOTIMPL`: Wine 8 stores the id but its `GetCurrentProcessExplicitAppUserModelID` is a
    /// stub, so under Wine only the set is proven; on Windows the id is read back.
    const E_NOTIMPL: i32 = 0x8000_4001_u32 as i32;

    #[test]
    fn the_app_user_model_id_is_set_on_the_process_and_read_back_where_the_os_can() {
        set_app_user_model_id(crate::platform::APP_ID).unwrap();
        let mut out: windows_sys::core::PWSTR = std::ptr::null_mut();
        // SAFETY: `out` is valid for writes; on success it receives a string the shell allocated
        // with CoTaskMemAlloc, which we read up to its NUL and free once.
        let hr = unsafe { GetCurrentProcessExplicitAppUserModelID(&mut out) };
        if hr == E_NOTIMPL {
            return;
        }
        assert!(hr >= 0 && !out.is_null(), "HRESULT {hr:#x}");
        // SAFETY: `out` is a NUL-terminated UTF-16 string (see above).
        let read_back = unsafe {
            let len = (0..).take_while(|&i| *out.add(i) != 0).count();
            String::from_utf16_lossy(std::slice::from_raw_parts(out, len))
        };
        // SAFETY: allocated by the shell with CoTaskMemAlloc; freed exactly once.
        unsafe { CoTaskMemFree(out.cast()) };
        assert_eq!(read_back, crate::platform::APP_ID);
    }
}
