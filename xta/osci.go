package xta

import "encoding/xml"

// MsgSelector selects messages (OSCI2_02.xsd).
type MsgSelector struct {
	XMLName             xml.Name `xml:"http://www.osci.eu/ws/2008/05/transport MsgSelector"`
	NewEntry            *bool    `xml:"newEntry,attr,omitempty"`
	MessageID           []string `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	RelatesTo           []string `xml:"http://www.w3.org/2005/08/addressing RelatesTo"`
	MsgBoxEntryTimeFrom string   `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxEntryTimeFrom,omitempty"`
	MsgBoxEntryTimeTo   string   `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxEntryTimeTo,omitempty"`
}

// MsgBoxStatusListRequest is getStatusList's body.
type MsgBoxStatusListRequest struct {
	XMLName      xml.Name     `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxStatusListRequest"`
	MaxListItems int          `xml:"maxListItems,attr,omitempty"` // positiveInteger; 0 leaves it out
	ListForm     string       `xml:"ListForm,attr,omitempty"`
	MsgSelector  *MsgSelector `xml:"http://www.osci.eu/ws/2008/05/transport MsgSelector,omitempty"`
}

// MsgBoxFetchRequest is getMessage's body.
type MsgBoxFetchRequest struct {
	XMLName     xml.Name     `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxFetchRequest"`
	MsgPart     string       `xml:"MsgPart,attr,omitempty"` // Envelope (default) | Header | Body
	MsgSelector *MsgSelector `xml:"http://www.osci.eu/ws/2008/05/transport MsgSelector,omitempty"`
}

// MessageIDs returns the selector's MessageIDs, or nil.
func (r *MsgBoxFetchRequest) MessageIDs() []string {
	if r.MsgSelector == nil {
		return nil
	}
	return r.MsgSelector.MessageID
}

// MsgBoxGetNextRequest is the body of getNextStatusList and getNextMessage.
type MsgBoxGetNextRequest struct {
	XMLName         xml.Name `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxGetNextRequest"`
	MsgBoxRequestID string   `xml:"MsgBoxRequestID,attr"`
	LastMsgReceived []string `xml:"http://www.osci.eu/ws/2008/05/transport LastMsgReceived"`
}

// MsgBoxCloseRequest is close's body.
type MsgBoxCloseRequest struct {
	XMLName         xml.Name `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxCloseRequest"`
	MsgBoxRequestID string   `xml:"MsgBoxRequestID,attr"`
	LastMsgReceived []string `xml:"http://www.osci.eu/ws/2008/05/transport LastMsgReceived"`
}

// MsgBoxResponse is the response header of the msgBox operations: NoMessageAvailable or
// ItemsPending, and the iterator's MsgBoxRequestID.
type MsgBoxResponse struct {
	XMLName            xml.Name            `xml:"http://www.osci.eu/ws/2008/05/transport MsgBoxResponse"`
	MsgBoxRequestID    string              `xml:"MsgBoxRequestID,attr"`
	NoMessageAvailable *NoMessageAvailable `xml:"http://www.osci.eu/ws/2008/05/transport NoMessageAvailable,omitempty"`
	ItemsPending       *int                `xml:"http://www.osci.eu/ws/2008/05/transport ItemsPending,omitempty"`
}

// NoMessageAvailable names why nothing was returned (Reason* constants).
type NoMessageAvailable struct {
	Reason string `xml:"reason,attr"`
}

// Pending returns a MsgBoxResponse with ItemsPending n.
func Pending(requestID string, n int) *MsgBoxResponse {
	return &MsgBoxResponse{MsgBoxRequestID: requestID, ItemsPending: &n}
}

// NoMessage returns a MsgBoxResponse with NoMessageAvailable reason.
func NoMessage(requestID, reason string) *MsgBoxResponse {
	return &MsgBoxResponse{MsgBoxRequestID: requestID, NoMessageAvailable: &NoMessageAvailable{Reason: reason}}
}

// MsgStatusList is the body of getStatusList and getNextStatusList's responses.
type MsgStatusList struct {
	XMLName         xml.Name          `xml:"http://www.osci.eu/ws/2008/05/transport MsgStatusList"`
	MsgAttributes   []MsgAttributes   `xml:"http://www.osci.eu/ws/2008/05/transport MsgAttributes"`
	MessageMetaData []MessageMetaData `xml:"http://www.osci.eu/ws/2014/10/transport MessageMetaData"`
}

// MsgAttributes is osci:MsgAttributeListType (wsa:From is not modelled).
type MsgAttributes struct {
	MessageID              string   `xml:"http://www.w3.org/2005/08/addressing MessageID"`
	RelatesTo              []string `xml:"http://www.w3.org/2005/08/addressing RelatesTo"`
	TypeOfBusinessScenario string   `xml:"http://www.osci.eu/ws/2008/05/transport TypeOfBusinessScenario"`
	MsgSize                int      `xml:"http://www.osci.eu/ws/2008/05/transport MsgSize"`
	ObsoleteAfterDate      string   `xml:"http://www.osci.eu/ws/2008/05/transport ObsoleteAfterDate,omitempty"`
	DeliveryTime           string   `xml:"http://www.osci.eu/ws/2008/05/transport DeliveryTime"`
	InitialFetchedTime     string   `xml:"http://www.osci.eu/ws/2008/05/transport InitialFetchedTime,omitempty"`
}
